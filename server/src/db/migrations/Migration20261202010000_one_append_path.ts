import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';

/**
 * One way into the journal and one chain implementation: vigil_append_audit takes a list of entries (a
 * JournalWriter's one, or a sign-in's two inside vigil_open_session, which no longer loops on its own), and
 * every link is vigil_chain_hash's, which verification calls too.
 */
export class Migration20261202010000_one_append_path extends Migration {
  override name = 'Migration20261202010000_one_append_path';

  override up(): void {
    for (const name of ['vigil_chain_hash', 'vigil_append_audit', 'vigil_open_session'] as const) this.addSql(functionDefinition(name));
    this.addSql('drop function if exists vigil_append_audit(uuid, text, text, jsonb);');
  }
}

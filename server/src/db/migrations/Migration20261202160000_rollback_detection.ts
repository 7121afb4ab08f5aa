import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember } from './locator-ownership.ts';

/** The operators' platform journal shows journal.rollback_detected too (issue 16): a journal behind its last signed checkpoint. */
export class Migration20261202160000_rollback_detection extends Migration {
  override name = 'Migration20261202160000_rollback_detection';

  override up(): void {
    for (const statement of asLocatorMember([functionDefinition('vigil_platform_journal')])) this.addSql(statement);
  }

  override down(): void {
    // The filter's widening is harmless to keep: nothing to undo.
  }
}

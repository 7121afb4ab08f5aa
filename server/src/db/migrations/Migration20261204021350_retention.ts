import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { handToLocator } from './locator-ownership.ts';

const APP_ROLE = 'vigil_app';
const LOCATOR_ROLE = 'vigil_locator';
const RETENTION = 'vigil_apply_retention(uuid, bigint, text)';

/**
 * Journal retention (issue 17): a company's retention and its journal's anchor (the signed checkpoint its chain
 * starts from once older events are removed); vigil_apply_retention, owned by vigil_locator, moves the anchor and
 * removes what precedes it, which the journal's trigger now lets go (and nothing else).
 */
export class Migration20261204021350_retention extends Migration {

  override name = 'Migration20261204021350_retention';

  override up(): void | Promise<void> {
    this.addSql(`alter table "tenant" add "journal_retention_years" int null, add "journal_anchor_seq" bigint not null default '0', add "journal_anchor_hash" varchar(64) null;`);
    this.addSql(`grant update (journal_anchor_seq, journal_anchor_hash) on tenant to ${LOCATOR_ROLE};`);
    this.addSql(functionDefinition('vigil_refuse_audit_change'));
    this.addSql(functionDefinition('vigil_apply_retention'));
    this.addSql(`revoke all on function ${RETENTION} from public;`);
    this.addSql(`grant execute on function ${RETENTION} to ${APP_ROLE};`);
    for (const statement of handToLocator([RETENTION])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists ${RETENTION};`);
    this.addSql(`revoke update (journal_anchor_seq, journal_anchor_hash) on tenant from ${LOCATOR_ROLE};`);
    this.addSql(`alter table "tenant" drop column "journal_retention_years", drop column "journal_anchor_seq", drop column "journal_anchor_hash";`);
  }

}

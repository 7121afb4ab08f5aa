import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember, handToLocator } from './locator-ownership.ts';

const APP_ROLE = 'vigil_app';
const LOCATOR_ROLE = 'vigil_locator';
const PURGE = 'vigil_purge_tenant(uuid, uuid, timestamptz, jsonb, jsonb)';
/** What vigil_purge_tenant deletes of a company (its list, in its order); the tenant row it renames. */
const PURGED_TABLES = ['retired_session_secret', 'session', 'sign_in_challenge', 'recovery_code', 'known_device',
  'password_reset', 'invitation', 'api_key', 'audit_export', 'access_change', 'audit_event', 'app_user', 'role'];

/**
 * The purge of a deleted company (issue 15). vigil_locator, which owns the purge, may now delete the rows of
 * the one company its transaction names (row-level security still keys every delete to app.tenant_id); the
 * journal's trigger lets a purged company's rows go; the executor finds due purges and holds a refused one.
 */
export class Migration20261202143000_purge extends Migration {
  override name = 'Migration20261202143000_purge';

  override up(): void {
    this.addSql(`grant select (tenant_id), delete on ${PURGED_TABLES.join(', ')} to ${LOCATOR_ROLE};`);
    this.addSql(`grant update (name, slug) on tenant to ${LOCATOR_ROLE};`);
    this.addSql(functionDefinition('vigil_refuse_audit_change'));
    for (const statement of asLocatorMember([functionDefinition('vigil_critical_transition'), functionDefinition('vigil_due_critical_operations')])) this.addSql(statement);
    this.addSql(functionDefinition('vigil_purge_tenant'));
    this.addSql(`revoke all on function ${PURGE} from public;`);
    this.addSql(`grant execute on function ${PURGE} to ${APP_ROLE};`);
    for (const statement of handToLocator([PURGE])) this.addSql(statement);
  }

  override down(): void {
    this.addSql(`drop function if exists ${PURGE};`);
    this.addSql(`revoke update (name, slug) on tenant from ${LOCATOR_ROLE};`);
    this.addSql(`revoke select (tenant_id), delete on ${PURGED_TABLES.join(', ')} from ${LOCATOR_ROLE};`);
  }
}

import { Migration } from '@mikro-orm/migrations';
import { type FunctionName, functionDefinition } from '../functions.ts';
import { asLocatorMember } from './locator-ownership.ts';

/**
 * From here on each function's current definition lives in db/functions/<name>.sql: this loads them all
 * (the same definitions the earlier migrations made, so nothing changes in a migrated database; owners
 * and grants survive `create or replace`).
 */
/** The functions there were then: a function added later is loaded by its own migration, after what it uses exists. */
const FUNCTIONS_THEN: readonly FunctionName[] = [
  'vigil_api_key_auth',
  'vigil_append_audit',
  'vigil_chain_hash',
  'vigil_open_session',
  'vigil_recent_access_changes',
  'vigil_refuse_audit_change',
  'vigil_release_sign_in',
  'vigil_reserve_sign_in',
  'vigil_session_auth',
  'vigil_sign_in_account',
  'vigil_tenant_by_slug',
  'vigil_tenant_ids',
  'vigil_tenant_of_api_key',
  'vigil_tenant_of_invitation',
  'vigil_tenant_of_password_reset',
  'vigil_tenant_of_session',
  'vigil_tenant_of_sign_in_challenge',
];

export class Migration20261202000000_function_files extends Migration {
  override name = 'Migration20261202000000_function_files';

  override up(): void {
    // Replacing a function takes being its owner: the locators belong to vigil_locator.
    for (const statement of asLocatorMember(FUNCTIONS_THEN.map(functionDefinition))) this.addSql(statement);
  }
}

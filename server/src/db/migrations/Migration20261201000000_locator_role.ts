import { Migration } from '@mikro-orm/migrations';
import { handToLocator } from './locator-ownership.ts';

const LOCATOR_ROLE = 'vigil_locator';

/** What the SECURITY DEFINER functions read, and nothing more. */
const LOCATED_TABLES = ['tenant', 'app_user', 'role', 'session', 'api_key', 'invitation', 'sign_in_challenge', 'password_reset'];

const LOCATOR_FUNCTIONS = [
  'vigil_tenant_by_slug(text)',
  'vigil_tenant_of_session(uuid)',
  'vigil_tenant_of_invitation(uuid)',
  'vigil_tenant_of_api_key(uuid)',
  'vigil_tenant_of_sign_in_challenge(uuid)',
  'vigil_tenant_of_password_reset(uuid)',
  'vigil_session_auth(uuid[])',
  'vigil_api_key_auth(uuid[])',
  'vigil_sign_in_account(text, text)',
  'vigil_tenant_ids()',
];

/**
 * Managed PostgreSQL (RDS, Cloud SQL, Azure) gives the owner CREATEDB CREATEROLE and nothing more:
 * forced row-level security blinds it, and so it blinded the SECURITY DEFINER locators it owned. They now
 * belong to vigil_locator, a NOLOGIN role with no members whose own SELECT policies see every row of the
 * tables they read. Nobody logs in as it and vigil_app is not a member, so the only way to its view is
 * through the functions, which return a tenant id or one credential's row.
 */
export class Migration20261201000000_locator_role extends Migration {
  override name = 'Migration20261201000000_locator_role';

  override up(): void {
    this.addSql(`do $$ begin
      create role ${LOCATOR_ROLE} nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    exception when duplicate_object or unique_violation then null; end $$;`);
    this.addSql(`grant usage on schema public to ${LOCATOR_ROLE};`);
    this.addSql(`grant select on ${LOCATED_TABLES.join(', ')} to ${LOCATOR_ROLE};`);
    for (const table of LOCATED_TABLES) {
      this.addSql(`create policy "${table}_locator" on "${table}" for select to ${LOCATOR_ROLE} using (true);`);
    }
    for (const statement of handToLocator(LOCATOR_FUNCTIONS)) this.addSql(statement);
  }

  override down(): void {
    for (const fn of LOCATOR_FUNCTIONS) this.addSql(`alter function ${fn} owner to current_user;`);
    for (const table of LOCATED_TABLES) this.addSql(`drop policy if exists "${table}_locator" on "${table}";`);
    this.addSql(`revoke select on ${LOCATED_TABLES.join(', ')} from ${LOCATOR_ROLE};`);
    this.addSql(`revoke usage on schema public from ${LOCATOR_ROLE};`);
  }
}

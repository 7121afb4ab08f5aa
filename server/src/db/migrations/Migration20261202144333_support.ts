import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember, handToLocator } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

const APP_ROLE = 'vigil_app';
const OPS_ROLE = 'vigil_ops';
const LOCATOR_ROLE = 'vigil_locator';
const GRANTS: Record<string, string[]> = {
  'vigil_support_session_auth(uuid)': [APP_ROLE],
  'vigil_ops_support_grants(timestamptz)': [OPS_ROLE],
  'vigil_support_open(uuid, text, uuid, jsonb, timestamptz, jsonb)': [OPS_ROLE],
};

/**
 * Support access (issue 15). The company's owner grants and revokes (the application inserts grants and may
 * change only their end); the operators open sessions under a grant, and break-glasses, only through
 * vigil_support_open, which vigil_locator owns. The purge now deletes both tables, and the notifier's cursor.
 */
export class Migration20261202144333_support extends Migration {

  override name = 'Migration20261202144333_support';

  override up(): void | Promise<void> {
    this.addSql(`create table "support_grant" ("id" uuid not null, "tenant_id" uuid not null, "kind" text not null, "scopes" text[] not null, "reason" varchar(500) not null, "case_reference" varchar(100) not null, "granted_by" uuid null, "requested_by_operator" uuid null, "approved_by_operator" uuid null, "justification" varchar(60) null, "created_at" timestamptz not null, "approved_at" timestamptz null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_by" uuid null, "owner_shown_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "support_grant_tenant_id_expires_at_index" on "support_grant" ("tenant_id", "expires_at");`);
    this.addSql(`alter table "support_grant" add constraint "support_grant_tenant_id_id_unique" unique ("tenant_id", "id");`);

    this.addSql(`create table "support_session" ("id" uuid not null, "tenant_id" uuid not null, "grant_id" uuid not null, "operator_id" uuid not null, "secret_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`alter table "support_grant" add constraint "support_grant_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "support_grant" add constraint "support_grant_kind_check" check ("kind" in ('grant', 'break_glass'));`);
    this.addSql(`alter table "support_grant" enable row level security;`);
    this.addSql(`alter table "support_grant" force row level security;`);
    this.addSql(`create policy "support_grant_tenant_isolation" on "support_grant" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "support_grant_locator" on "support_grant" for select to "vigil_locator" using (true);`);

    this.addSql(`alter table "support_session" add constraint "support_session_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "support_session" add constraint "support_session_tenant_id_grant_id_foreign" foreign key ("tenant_id", "grant_id") references "support_grant" ("tenant_id", "id");`);
    this.addSql(`alter table "support_session" enable row level security;`);
    this.addSql(`alter table "support_session" force row level security;`);
    this.addSql(`create policy "support_session_tenant_isolation" on "support_session" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "support_session_locator" on "support_session" for select to "vigil_locator" using (true);`);

    for (const statement of tenantTableAccess('support_grant', { app: ['select', 'insert'], located: true })) this.addSql(statement);
    for (const statement of tenantTableAccess('support_session', { app: ['select'], located: true })) this.addSql(statement);
    this.addSql(`grant update (revoked_at, revoked_by, owner_shown_at) on support_grant to ${APP_ROLE};`);
    this.addSql(`grant insert, update, delete on support_grant to ${LOCATOR_ROLE};`);
    this.addSql(`grant insert, delete on support_session to ${LOCATOR_ROLE};`);
    this.addSql(`grant select (tenant_id), delete on notification_cursor to ${LOCATOR_ROLE};`);
    for (const name of ['vigil_support_session_auth', 'vigil_ops_support_grants', 'vigil_support_open'] as const) this.addSql(functionDefinition(name));
    for (const [fn, roles] of Object.entries(GRANTS)) {
      this.addSql(`revoke all on function ${fn} from public;`);
      this.addSql(`grant execute on function ${fn} to ${roles.join(', ')};`);
    }
    for (const statement of handToLocator(Object.keys(GRANTS))) this.addSql(statement);
    for (const statement of asLocatorMember([functionDefinition('vigil_purge_tenant')])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    for (const fn of Object.keys(GRANTS)) this.addSql(`drop function if exists ${fn};`);
    this.addSql(`alter table "support_session" drop constraint "support_session_tenant_id_grant_id_foreign";`);

    this.addSql(`drop table if exists "support_grant" cascade;`);
    this.addSql(`drop table if exists "support_session" cascade;`);
  }

}

import { Migration } from '@mikro-orm/migrations';
import { handToLocator } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

const APP_ROLE = 'vigil_app';

/**
 * Access signals in PostgreSQL, so that revocation does not depend on Redis (see AccessChange). Each
 * instance reads the recent changes of the tenants it has sockets for through vigil_recent_access_changes,
 * which, as the other locators, belongs to vigil_locator: the instance polls before knowing any tenant.
 */
export class Migration20261201224659_access_change extends Migration {

  override name = 'Migration20261201224659_access_change';

  override up(): void | Promise<void> {
    this.addSql(`create table "access_change" ("id" uuid not null, "tenant_id" uuid not null, "recorded_at" timestamptz not null default clock_timestamp(), "signal" jsonb not null, primary key ("id"));`);
    this.addSql(`create index "access_change_recorded_at_index" on "access_change" ("recorded_at");`);

    this.addSql(`alter table "access_change" add constraint "access_change_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "access_change" enable row level security;`);
    this.addSql(`alter table "access_change" force row level security;`);
    this.addSql(`create policy "access_change_tenant_isolation" on "access_change" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "access_change_locator" on "access_change" for select to "vigil_locator" using (true);`);
    for (const statement of tenantTableAccess('access_change', { app: ['select', 'insert', 'delete'], located: true })) this.addSql(statement);
    this.addSql(`create function vigil_recent_access_changes(p_tenants uuid[], p_window_seconds int)
      returns table (id uuid, tenant_id uuid, signal jsonb) language sql stable
      security definer set search_path = pg_catalog, public as $$
      select c.id, c.tenant_id, c.signal from access_change c
        where c.tenant_id = any(p_tenants) and c.recorded_at > clock_timestamp() - make_interval(secs => p_window_seconds)
        order by c.recorded_at $$;`);
    this.addSql(`revoke all on function vigil_recent_access_changes from public;`);
    this.addSql(`grant execute on function vigil_recent_access_changes to ${APP_ROLE};`);
    for (const statement of handToLocator(['vigil_recent_access_changes(uuid[], int)'])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists vigil_recent_access_changes;`);
    this.addSql(`drop table if exists "access_change" cascade;`);
  }

}

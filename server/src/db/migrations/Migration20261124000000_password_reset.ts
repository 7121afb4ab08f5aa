import { Migration } from '@mikro-orm/migrations';

const APP_ROLE = 'vigil_app';

/** Owners' resets of employees' passwords: the table, the application's grants, and its locator. */

export class Migration20261124000000_password_reset extends Migration {

  override name = 'Migration20261124000000_password_reset';

  override up(): void | Promise<void> {
    this.addSql(`create table "password_reset" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "reset_by_id" uuid not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "password_reset_user_id_index" on "password_reset" ("user_id");`);
    this.addSql(`create index "password_reset_reset_by_id_index" on "password_reset" ("reset_by_id");`);

    this.addSql(`alter table "password_reset" add constraint "password_reset_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "password_reset" add constraint "password_reset_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on delete cascade;`);
    this.addSql(`alter table "password_reset" add constraint "password_reset_reset_by_id_foreign" foreign key ("reset_by_id") references "app_user" ("id");`);
    this.addSql(`alter table "password_reset" enable row level security;`);
    this.addSql(`alter table "password_reset" force row level security;`);
    this.addSql(`create policy "password_reset_tenant_isolation" on "password_reset" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`grant select, insert, update, delete on password_reset to ${APP_ROLE};`);
    // As the security migration's locators: from the token's id to its tenant, before any tenant is set.
    this.addSql(`create function vigil_tenant_of_password_reset(p_id uuid) returns uuid language sql stable
      security definer set search_path = pg_catalog, public as $$ select tenant_id from password_reset where id = p_id $$;`);
    this.addSql(`revoke all on function vigil_tenant_of_password_reset from public;`);
    this.addSql(`grant execute on function vigil_tenant_of_password_reset to ${APP_ROLE};`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists vigil_tenant_of_password_reset;`);
    this.addSql(`drop table if exists "password_reset" cascade;`);
  }

}

import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

/**
 * Idempotency keys of mutations (issue 16): the application claims and answers them; the purge deletes them
 * with the rest of a company.
 */
export class Migration20261202160317_idempotency extends Migration {

  override name = 'Migration20261202160317_idempotency';

  override up(): void | Promise<void> {
    this.addSql(`create table "idempotent_request" ("id" uuid not null, "tenant_id" uuid not null, "principal" varchar(60) not null, "key" varchar(200) not null, "request_hash" varchar(64) not null, "created_at" timestamptz not null, "response" jsonb null, primary key ("id"));`);
    this.addSql(`alter table "idempotent_request" add constraint "idempotent_request_tenant_id_principal_key_unique" unique ("tenant_id", "principal", "key");`);

    this.addSql(`alter table "idempotent_request" add constraint "idempotent_request_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "idempotent_request" enable row level security;`);
    this.addSql(`alter table "idempotent_request" force row level security;`);
    this.addSql(`create policy "idempotent_request_tenant_isolation" on "idempotent_request" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    for (const statement of tenantTableAccess('idempotent_request', { app: ['select', 'insert', 'update', 'delete'] })) this.addSql(statement);
    this.addSql('grant select (tenant_id), delete on idempotent_request to vigil_locator;');
    for (const statement of asLocatorMember([functionDefinition('vigil_purge_tenant')])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "idempotent_request" cascade;`);
  }

}

import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember, handToLocator } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

const APP_ROLE = 'vigil_app';
const LOCATOR_ROLE = 'vigil_locator';
const DUE = 'vigil_webhooks_due(timestamptz)';

/**
 * Webhooks (issue 17): a company's endpoints, each with its cursor in the journal (the journal is the outbox),
 * and the deliveries the Integrations screen lists. vigil_webhooks_due is the locator that finds the companies
 * with something to deliver (tenant ids only); the purge deletes both tables with the company.
 */
export class Migration20261204014759_webhooks extends Migration {

  override name = 'Migration20261204014759_webhooks';

  override up(): void | Promise<void> {
    this.addSql(`create table "webhook_endpoint" ("id" uuid not null, "tenant_id" uuid not null, "url" varchar(2048) not null, "description" varchar(200) not null, "actions" text[] not null default '{}', "format" text not null, "secret_enc" varchar(400) not null, "signing_key_enc" varchar(400) not null, "public_key" varchar(100) not null, "state" text not null, "disabled_reason" varchar(200) null, "last_seq" bigint not null, "attempts" int not null default 0, "next_attempt_at" timestamptz null, "lease_id" uuid null, "leased_until" timestamptz null, "created_at" timestamptz not null, "created_by" uuid not null, primary key ("id"));`);
    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_tenant_id_id_unique" unique ("tenant_id", "id");`);

    this.addSql(`create table "webhook_delivery" ("id" varchar(64) not null, "tenant_id" uuid not null, "endpoint_id" uuid not null, "seq" bigint not null, "action" varchar(80) not null, "state" text not null, "attempts" int not null, "last_status" int null, "last_error" varchar(300) null, "last_attempt_at" timestamptz not null, "delivered_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "webhook_delivery_endpoint_id_seq_index" on "webhook_delivery" ("endpoint_id", "seq");`);

    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_format_check" check ("format" in ('vigil', 'ocsf'));`);
    this.addSql(`alter table "webhook_endpoint" add constraint "webhook_endpoint_state_check" check ("state" in ('active', 'paused', 'disabled'));`);
    this.addSql(`alter table "webhook_endpoint" enable row level security;`);
    this.addSql(`alter table "webhook_endpoint" force row level security;`);
    this.addSql(`create policy "webhook_endpoint_tenant_isolation" on "webhook_endpoint" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "webhook_endpoint_locator" on "webhook_endpoint" for select to "vigil_locator" using (true);`);

    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_tenant_id_endpoint_id_foreign" foreign key ("tenant_id", "endpoint_id") references "webhook_endpoint" ("tenant_id", "id") on delete cascade;`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_state_check" check ("state" in ('pending', 'delivered', 'dead'));`);
    this.addSql(`alter table "webhook_delivery" enable row level security;`);
    this.addSql(`alter table "webhook_delivery" force row level security;`);
    this.addSql(`create policy "webhook_delivery_tenant_isolation" on "webhook_delivery" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    for (const statement of tenantTableAccess('webhook_endpoint', { app: ['select', 'insert', 'update', 'delete'], located: true })) this.addSql(statement);
    for (const statement of tenantTableAccess('webhook_delivery', { app: ['select', 'insert', 'update'] })) this.addSql(statement);
    // As the purge migration grants every table it deletes (vigil_purge_tenant runs as vigil_locator).
    this.addSql(`grant select (tenant_id), delete on webhook_delivery, webhook_endpoint to ${LOCATOR_ROLE};`);
    this.addSql(functionDefinition('vigil_webhooks_due'));
    this.addSql(`revoke all on function ${DUE} from public;`);
    this.addSql(`grant execute on function ${DUE} to ${APP_ROLE};`);
    for (const statement of handToLocator([DUE])) this.addSql(statement);
    for (const statement of asLocatorMember([functionDefinition('vigil_purge_tenant')])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_tenant_id_endpoint_id_foreign";`);

    this.addSql(`drop table if exists "webhook_endpoint" cascade;`);
    this.addSql(`drop table if exists "webhook_delivery" cascade;`);
  }

}

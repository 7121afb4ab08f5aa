import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember, handToLocator } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

const APP_ROLE = 'vigil_app';
const OPS_ROLE = 'vigil_ops';
const LOCATOR_ROLE = 'vigil_locator';
const GRANTS: Record<string, string[]> = {
  'vigil_critical_transition(uuid, uuid, text, jsonb, jsonb, timestamptz, jsonb)': [APP_ROLE, OPS_ROLE],
  'vigil_due_critical_operations(timestamptz)': [APP_ROLE],
  'vigil_ops_critical_operations()': [OPS_ROLE],
};

/**
 * Critical operations (issue 15). The application may only read them: every write is a transition of
 * vigil_critical_transition, which vigil_locator owns (with insert and update on the table, and select on the
 * operators it checks) and both the application and the operators' role execute. A deleted company is
 * disabled (tenant.disabled_at), which the operators' summary now shows.
 */
export class Migration20261202074708_critical_operations extends Migration {

  override name = 'Migration20261202074708_critical_operations';

  override up(): void | Promise<void> {
    this.addSql(`create table "critical_operation" ("id" uuid not null, "tenant_id" uuid not null, "kind" text not null, "params" jsonb not null, "intent_hash" varchar(64) not null, "state" text not null, "reason" varchar(500) not null, "requested_by" uuid not null, "requested_at" timestamptz not null, "expires_at" timestamptz not null, "verified_by" uuid null, "verified_at" timestamptz null, "verification" jsonb null, "approved_by" uuid null, "approved_at" timestamptz null, "accept_by" timestamptz null, "accepted_at" timestamptz null, "executes_at" timestamptz null, "executed_at" timestamptz null, "purge_at" timestamptz null, "legal_hold" boolean not null default false, "closed_at" timestamptz null, "closed_by" uuid null, "close_reason" varchar(500) null, primary key ("id"));`);
    this.addSql(`create index "critical_operation_tenant_id_state_index" on "critical_operation" ("tenant_id", "state");`);

    this.addSql(`alter table "tenant" add "disabled_at" timestamptz null;`);

    this.addSql(`alter table "critical_operation" add constraint "critical_operation_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "critical_operation" add constraint "critical_operation_kind_check" check ("kind" in ('tenant.delete', 'tenant.transfer_ownership'));`);
    this.addSql(`alter table "critical_operation" add constraint "critical_operation_state_check" check ("state" in ('requested', 'verified', 'approved', 'cooling_off', 'executed', 'purged', 'cancelled', 'denied', 'expired'));`);
    this.addSql(`alter table "critical_operation" enable row level security;`);
    this.addSql(`alter table "critical_operation" force row level security;`);
    this.addSql(`create policy "critical_operation_tenant_isolation" on "critical_operation" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "critical_operation_locator" on "critical_operation" for select to "vigil_locator" using (true);`);

    for (const statement of tenantTableAccess('critical_operation', { app: ['select'], located: true })) this.addSql(statement);
    this.addSql(`grant insert, update on critical_operation to ${LOCATOR_ROLE};`);
    this.addSql(`grant select on platform_operator to ${LOCATOR_ROLE};`);
    for (const name of ['vigil_critical_transition', 'vigil_due_critical_operations', 'vigil_ops_critical_operations'] as const) this.addSql(functionDefinition(name));
    for (const [fn, roles] of Object.entries(GRANTS)) {
      this.addSql(`revoke all on function ${fn} from public;`);
      this.addSql(`grant execute on function ${fn} to ${roles.join(', ')};`);
    }
    for (const statement of handToLocator(Object.keys(GRANTS))) this.addSql(statement);
    for (const statement of asLocatorMember([functionDefinition('vigil_ops_tenant_summary')])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    for (const fn of Object.keys(GRANTS)) this.addSql(`drop function if exists ${fn};`);
    this.addSql(`revoke select on platform_operator from ${LOCATOR_ROLE};`);
    this.addSql(`drop table if exists "critical_operation" cascade;`);

    this.addSql(`alter table "tenant" drop column "disabled_at";`);
  }

}

import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { handToLocator } from './locator-ownership.ts';

const OPS_ROLE = 'vigil_ops';
const LOCATOR_ROLE = 'vigil_locator';
const OPS_FUNCTIONS = ['vigil_append_operator_audit(uuid, jsonb)', 'vigil_ops_tenant_summary()', 'vigil_platform_journal(bigint, integer)'];

/**
 * The platform operators' realm (issue 15): their seats (two, by a CHECK), accounts and sessions, and
 * vigil_ops, the role behind /ops/graphql, with grants on those tables, the narrow tenant summary and the
 * functions that journal for it, and none on a tenant table. vigil_locator may read and append the platform
 * tenant's journal rows only (policies from AuditEvent's tenancy), which those functions need.
 */

export class Migration20261202072707_operators extends Migration {

  override name = 'Migration20261202072707_operators';

  override up(): void | Promise<void> {
    this.addSql(`create table "operator_slot" ("slot" smallint not null, primary key ("slot"));`);

    this.addSql(`create table "platform_operator" ("id" uuid not null, "slot" smallint not null, "email" varchar(254) not null, "display_name" varchar(100) not null, "password_hash" varchar(200) not null, "totp_secret_enc" varchar(400) not null, "totp_last_step" bigint null, "created_at" timestamptz not null, "approved_at" timestamptz null, "approved_by" uuid null, "disabled_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "platform_operator" add constraint "platform_operator_slot_unique" unique ("slot");`);
    this.addSql(`alter table "platform_operator" add constraint "platform_operator_email_unique" unique ("email");`);

    this.addSql(`create table "operator_session" ("id" uuid not null, "operator_id" uuid not null, "secret_hash" varchar(64) not null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "stepped_up_at" timestamptz null, "ip" varchar(64) null, "user_agent" varchar(512) null, "ended_at" timestamptz null, "end_reason" text null, primary key ("id"));`);
    this.addSql(`create index "operator_session_operator_id_index" on "operator_session" ("operator_id");`);

    this.addSql(`alter table "audit_event" drop constraint "audit_event_actor_type_check";`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_actor_type_check" check ("actor_type" in ('user', 'api_key', 'anonymous', 'system', 'operator'));`);
    this.addSql(`create policy "audit_event_platform_read" on "audit_event" for select to "vigil_locator" using (tenant_id = '00000000-0000-0000-0000-000000000000'::uuid);`);
    this.addSql(`create policy "audit_event_platform_append" on "audit_event" for insert to "vigil_locator" with check (tenant_id = '00000000-0000-0000-0000-000000000000'::uuid);`);

    this.addSql(`alter table "operator_slot" add constraint "operator_slot_at_most_two" check (slot in (1, 2));`);

    this.addSql(`alter table "platform_operator" add constraint "platform_operator_slot_foreign" foreign key ("slot") references "operator_slot" ("slot") on delete restrict;`);

    this.addSql(`alter table "operator_session" add constraint "operator_session_operator_id_foreign" foreign key ("operator_id") references "platform_operator" ("id");`);
    this.addSql(`alter table "operator_session" add constraint "operator_session_end_reason_check" check ("end_reason" in ('signed_out', 'expired', 'disabled'));`);

    this.addSql(`insert into operator_slot (slot) values (1), (2);`);
    // Concurrent first starts (or test files) may race to create the cluster-wide role.
    this.addSql(`do $$ begin
      create role ${OPS_ROLE} login nosuperuser nobypassrls nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null; end $$;`);
    this.addSql(`grant usage on schema public to ${OPS_ROLE};`);
    this.addSql(`grant select on operator_slot to ${OPS_ROLE};`);
    this.addSql(`grant select, insert, update on platform_operator, operator_session to ${OPS_ROLE};`);
    this.addSql(`grant select, insert on audit_event to ${LOCATOR_ROLE};`);
    for (const name of ['vigil_append_operator_audit', 'vigil_ops_tenant_summary', 'vigil_platform_journal'] as const) this.addSql(functionDefinition(name));
    for (const fn of OPS_FUNCTIONS) {
      this.addSql(`revoke all on function ${fn} from public;`);
      this.addSql(`grant execute on function ${fn} to ${OPS_ROLE};`);
    }
    for (const statement of handToLocator(OPS_FUNCTIONS)) this.addSql(statement);
    this.addSql(`create view "ops_tenant_summary" as select * from vigil_ops_tenant_summary() s(id, name, state, created_at, user_count);`);
    // The function checks nothing of its caller: the view runs it as whoever reads the view (vigil_ops, granted).
    this.addSql(`alter view ops_tenant_summary set (security_invoker = true);`);
    this.addSql(`grant select on ops_tenant_summary to ${OPS_ROLE};`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop view if exists "ops_tenant_summary" cascade;`);
    for (const fn of OPS_FUNCTIONS) this.addSql(`drop function if exists ${fn};`);
    this.addSql(`revoke select, insert on audit_event from ${LOCATOR_ROLE};`);
    this.addSql(`alter table "platform_operator" drop constraint "platform_operator_slot_foreign";`);
    this.addSql(`alter table "operator_session" drop constraint "operator_session_operator_id_foreign";`);

    this.addSql(`drop table if exists "operator_slot" cascade;`);
    this.addSql(`drop table if exists "platform_operator" cascade;`);
    this.addSql(`drop table if exists "operator_session" cascade;`);

    this.addSql(`drop policy "audit_event_platform_read" on "audit_event";`);
    this.addSql(`drop policy "audit_event_platform_append" on "audit_event";`);

    this.addSql(`alter table "audit_event" drop constraint "audit_event_actor_type_check";`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_actor_type_check" check ("actor_type" in ('user', 'api_key', 'anonymous', 'system'));`);
  }

}

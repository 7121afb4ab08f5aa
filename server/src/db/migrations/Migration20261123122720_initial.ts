import { Migration } from '@mikro-orm/migrations';

export class Migration20261123122720_initial extends Migration {

  override name = 'Migration20261123122720_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "scheduled_job" ("name" varchar(60) not null, "leased_until" timestamptz null, "last_run_at" timestamptz null, primary key ("name"));`);

    this.addSql(`create table "sign_in_throttle" ("key" varchar(64) not null, "failures" int not null, "last_attempt_at" timestamptz not null, "locked_until" timestamptz null, primary key ("key"));`);

    this.addSql(`create table "tenant" ("id" uuid not null, "slug" varchar(63) not null, "name" varchar(200) not null, "created_at" timestamptz not null, "idle_timeout_seconds" int not null, "absolute_timeout_seconds" int not null, "rotation_interval_seconds" int not null, "rotation_grace_seconds" int not null, "api_key_max_age_days" int not null, primary key ("id"));`);
    this.addSql(`alter table "tenant" add constraint "tenant_slug_unique" unique ("slug");`);

    this.addSql(`create table "role" ("id" uuid not null, "tenant_id" uuid not null, "name" varchar(80) not null, "description" varchar(500) not null, "permissions" text[] not null, "built_in" varchar(40) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "role" add constraint "role_tenant_id_name_unique" unique ("tenant_id", "name");`);

    this.addSql(`create table "audit_event" ("id" uuid not null, "tenant_id" uuid not null, "seq" bigint not null, "occurred_at" timestamptz not null, "action" varchar(80) not null, "outcome" text not null, "actor_type" text not null, "actor_id" uuid null, "target_type" varchar(40) null, "target_id" uuid null, "ip" varchar(64) null, "user_agent" varchar(512) null, "session_id" uuid null, "details" jsonb not null, "prev_hash" varchar(64) not null, "hash" varchar(64) not null, primary key ("id"));`);
    this.addSql(`create index "audit_event_tenant_id_action_seq_index" on "audit_event" ("tenant_id", "action", "seq");`);
    this.addSql(`create index "audit_event_tenant_id_actor_id_seq_index" on "audit_event" ("tenant_id", "actor_id", "seq");`);
    this.addSql(`create index "audit_event_tenant_id_target_id_seq_index" on "audit_event" ("tenant_id", "target_id", "seq");`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_tenant_id_seq_unique" unique ("tenant_id", "seq");`);

    this.addSql(`create table "app_user" ("id" uuid not null, "tenant_id" uuid not null, "email" varchar(254) not null, "display_name" varchar(100) not null, "password_hash" varchar(200) not null, "role_id" uuid not null, "disabled_at" timestamptz null, "created_at" timestamptz not null, "password_changed_at" timestamptz not null, "totp_secret_enc" varchar(400) null, "totp_enabled_at" timestamptz null, "totp_last_step" bigint null, primary key ("id"));`);
    this.addSql(`create index "app_user_role_id_index" on "app_user" ("role_id");`);
    this.addSql(`alter table "app_user" add constraint "app_user_tenant_id_email_unique" unique ("tenant_id", "email");`);

    this.addSql(`create table "sign_in_challenge" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "sign_in_challenge_user_id_index" on "sign_in_challenge" ("user_id");`);

    this.addSql(`create table "session" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "previous_secret_hash" varchar(64) null, "previous_valid_until" timestamptz null, "created_at" timestamptz not null, "rotated_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "ip" varchar(64) null, "user_agent" varchar(512) null, "auth_method" varchar(20) not null, "ended_at" timestamptz null, "end_reason" text null, primary key ("id"));`);
    this.addSql(`create index "session_tenant_id_user_id_index" on "session" ("tenant_id", "user_id");`);

    this.addSql(`create table "retired_session_secret" ("secret_hash" varchar(64) not null, "tenant_id" uuid not null, "session_id" uuid not null, "retired_at" timestamptz not null, primary key ("secret_hash"));`);
    this.addSql(`create index "retired_session_secret_session_id_index" on "retired_session_secret" ("session_id");`);

    this.addSql(`create table "recovery_code" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "code_hash" varchar(64) not null, "created_at" timestamptz not null, "used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "recovery_code_user_id_index" on "recovery_code" ("user_id");`);
    this.addSql(`alter table "recovery_code" add constraint "recovery_code_tenant_id_code_hash_unique" unique ("tenant_id", "code_hash");`);

    this.addSql(`create table "known_device" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "secret_hash" varchar(64) not null, "ip" varchar(64) null, "user_agent" varchar(512) null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "known_device_tenant_id_user_id_index" on "known_device" ("tenant_id", "user_id");`);

    this.addSql(`create table "invitation" ("id" uuid not null, "tenant_id" uuid not null, "email" varchar(254) not null, "role_id" uuid not null, "secret_hash" varchar(64) not null, "invited_by_id" uuid not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "accepted_at" timestamptz null, "accepted_user_id" uuid null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "invitation_role_id_index" on "invitation" ("role_id");`);
    this.addSql(`create index "invitation_invited_by_id_index" on "invitation" ("invited_by_id");`);
    this.addSql(`create index "invitation_tenant_id_email_index" on "invitation" ("tenant_id", "email");`);

    this.addSql(`create table "audit_export" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "format" text not null, "filter" jsonb not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "audit_export_user_id_index" on "audit_export" ("user_id");`);

    this.addSql(`create table "api_key" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "name" varchar(100) not null, "prefix" varchar(16) not null, "secret_hash" varchar(64) not null, "permissions" text[] not null, "created_at" timestamptz not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "last_used_ip" varchar(64) null, "revoked_at" timestamptz null, "revoke_reason" varchar(40) null, "rotated_from_id" uuid null, "rotated_to_id" uuid null, "valid_until" timestamptz null, "auto_rotated" boolean not null, "pending_secret_enc" varchar(400) null, "revealed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "api_key_tenant_id_user_id_index" on "api_key" ("tenant_id", "user_id");`);

    this.addSql(`alter table "tenant" enable row level security;`);
    this.addSql(`alter table "tenant" force row level security;`);
    this.addSql(`create policy "tenant_tenant_isolation" on "tenant" using (id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "role" add constraint "role_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "role" enable row level security;`);
    this.addSql(`alter table "role" force row level security;`);
    this.addSql(`create policy "role_tenant_isolation" on "role" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "audit_event" add constraint "audit_event_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_outcome_check" check ("outcome" in ('success', 'failure', 'denied'));`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_actor_type_check" check ("actor_type" in ('user', 'api_key', 'anonymous', 'system'));`);
    this.addSql(`alter table "audit_event" enable row level security;`);
    this.addSql(`alter table "audit_event" force row level security;`);
    this.addSql(`create policy "audit_event_tenant_isolation" on "audit_event" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "app_user" add constraint "app_user_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "app_user" add constraint "app_user_role_id_foreign" foreign key ("role_id") references "role" ("id");`);
    this.addSql(`alter table "app_user" enable row level security;`);
    this.addSql(`alter table "app_user" force row level security;`);
    this.addSql(`create policy "app_user_tenant_isolation" on "app_user" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "sign_in_challenge" add constraint "sign_in_challenge_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "sign_in_challenge" add constraint "sign_in_challenge_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "sign_in_challenge" enable row level security;`);
    this.addSql(`alter table "sign_in_challenge" force row level security;`);
    this.addSql(`create policy "sign_in_challenge_tenant_isolation" on "sign_in_challenge" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "session" add constraint "session_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "session" add constraint "session_end_reason_check" check ("end_reason" in ('signed_out', 'revoked', 'expired', 'token_reuse', 'password_changed', 'user_disabled'));`);
    this.addSql(`alter table "session" enable row level security;`);
    this.addSql(`alter table "session" force row level security;`);
    this.addSql(`create policy "session_tenant_isolation" on "session" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "retired_session_secret" add constraint "retired_session_secret_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "retired_session_secret" add constraint "retired_session_secret_session_id_foreign" foreign key ("session_id") references "session" ("id") on delete cascade;`);
    this.addSql(`alter table "retired_session_secret" enable row level security;`);
    this.addSql(`alter table "retired_session_secret" force row level security;`);
    this.addSql(`create policy "retired_session_secret_tenant_isolation" on "retired_session_secret" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "recovery_code" add constraint "recovery_code_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "recovery_code" add constraint "recovery_code_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "recovery_code" enable row level security;`);
    this.addSql(`alter table "recovery_code" force row level security;`);
    this.addSql(`create policy "recovery_code_tenant_isolation" on "recovery_code" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "known_device" add constraint "known_device_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "known_device" add constraint "known_device_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "known_device" enable row level security;`);
    this.addSql(`alter table "known_device" force row level security;`);
    this.addSql(`create policy "known_device_tenant_isolation" on "known_device" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "invitation" add constraint "invitation_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "invitation" add constraint "invitation_role_id_foreign" foreign key ("role_id") references "role" ("id") on delete cascade;`);
    this.addSql(`alter table "invitation" add constraint "invitation_invited_by_id_foreign" foreign key ("invited_by_id") references "app_user" ("id");`);
    this.addSql(`alter table "invitation" enable row level security;`);
    this.addSql(`alter table "invitation" force row level security;`);
    this.addSql(`create policy "invitation_tenant_isolation" on "invitation" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "audit_export" add constraint "audit_export_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "audit_export" add constraint "audit_export_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "audit_export" add constraint "audit_export_format_check" check ("format" in ('csv', 'jsonl'));`);
    this.addSql(`alter table "audit_export" enable row level security;`);
    this.addSql(`alter table "audit_export" force row level security;`);
    this.addSql(`create policy "audit_export_tenant_isolation" on "audit_export" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);

    this.addSql(`alter table "api_key" add constraint "api_key_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id");`);
    this.addSql(`alter table "api_key" add constraint "api_key_user_id_foreign" foreign key ("user_id") references "app_user" ("id");`);
    this.addSql(`alter table "api_key" enable row level security;`);
    this.addSql(`alter table "api_key" force row level security;`);
    this.addSql(`create policy "api_key_tenant_isolation" on "api_key" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "role" drop constraint "role_tenant_id_foreign";`);
    this.addSql(`alter table "audit_event" drop constraint "audit_event_tenant_id_foreign";`);
    this.addSql(`alter table "app_user" drop constraint "app_user_tenant_id_foreign";`);
    this.addSql(`alter table "sign_in_challenge" drop constraint "sign_in_challenge_tenant_id_foreign";`);
    this.addSql(`alter table "session" drop constraint "session_tenant_id_foreign";`);
    this.addSql(`alter table "retired_session_secret" drop constraint "retired_session_secret_tenant_id_foreign";`);
    this.addSql(`alter table "recovery_code" drop constraint "recovery_code_tenant_id_foreign";`);
    this.addSql(`alter table "known_device" drop constraint "known_device_tenant_id_foreign";`);
    this.addSql(`alter table "invitation" drop constraint "invitation_tenant_id_foreign";`);
    this.addSql(`alter table "audit_export" drop constraint "audit_export_tenant_id_foreign";`);
    this.addSql(`alter table "api_key" drop constraint "api_key_tenant_id_foreign";`);
    this.addSql(`alter table "app_user" drop constraint "app_user_role_id_foreign";`);
    this.addSql(`alter table "invitation" drop constraint "invitation_role_id_foreign";`);
    this.addSql(`alter table "sign_in_challenge" drop constraint "sign_in_challenge_user_id_foreign";`);
    this.addSql(`alter table "session" drop constraint "session_user_id_foreign";`);
    this.addSql(`alter table "recovery_code" drop constraint "recovery_code_user_id_foreign";`);
    this.addSql(`alter table "known_device" drop constraint "known_device_user_id_foreign";`);
    this.addSql(`alter table "invitation" drop constraint "invitation_invited_by_id_foreign";`);
    this.addSql(`alter table "audit_export" drop constraint "audit_export_user_id_foreign";`);
    this.addSql(`alter table "api_key" drop constraint "api_key_user_id_foreign";`);
    this.addSql(`alter table "retired_session_secret" drop constraint "retired_session_secret_session_id_foreign";`);

    this.addSql(`drop table if exists "scheduled_job" cascade;`);
    this.addSql(`drop table if exists "sign_in_throttle" cascade;`);
    this.addSql(`drop table if exists "tenant" cascade;`);
    this.addSql(`drop table if exists "role" cascade;`);
    this.addSql(`drop table if exists "audit_event" cascade;`);
    this.addSql(`drop table if exists "app_user" cascade;`);
    this.addSql(`drop table if exists "sign_in_challenge" cascade;`);
    this.addSql(`drop table if exists "session" cascade;`);
    this.addSql(`drop table if exists "retired_session_secret" cascade;`);
    this.addSql(`drop table if exists "recovery_code" cascade;`);
    this.addSql(`drop table if exists "known_device" cascade;`);
    this.addSql(`drop table if exists "invitation" cascade;`);
    this.addSql(`drop table if exists "audit_export" cascade;`);
    this.addSql(`drop table if exists "api_key" cascade;`);
  }

}

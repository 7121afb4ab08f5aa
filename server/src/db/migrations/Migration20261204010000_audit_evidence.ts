import { Migration } from '@mikro-orm/migrations';

const APP_ROLE = 'vigil_app';

/**
 * The customer's own proof (issue 17). audit_signing_key: every key whose checkpoints count, with its validity
 * (not_before: when Vigil first signed with it, null for a key of before this table; not_after: when a rotation
 * retired it, plus the rollout grace), written by the owner's connection at each start and read by anyone at
 * /.well-known/vigil-audit-keys.json. Exports gain the evidence bundle and OCSF.
 * Each company may tune its security detectors (tenant.alert_rules: the owner's changes to the defaults).
 */
export class Migration20261204010000_audit_evidence extends Migration {
  override name = 'Migration20261204010000_audit_evidence';

  override up(): void {
    this.addSql(`create table "audit_signing_key" ("key_id" text not null, "public_key_pem" text not null, "not_before" timestamptz null, "not_after" timestamptz null, "recorded_at" timestamptz not null, primary key ("key_id"));`);
    this.addSql(`grant select on audit_signing_key to ${APP_ROLE};`);
    this.addSql(`alter table "audit_export" drop constraint "audit_export_format_check";`);
    this.addSql(`alter table "audit_export" add constraint "audit_export_format_check" check ("format" in ('csv', 'jsonl', 'ocsf', 'bundle'));`);
    this.addSql(`alter table "tenant" add column "alert_rules" jsonb not null default '{}';`);
  }

  override down(): void {
    this.addSql('alter table "tenant" drop column "alert_rules";');
    this.addSql(`delete from "audit_export" where "format" in ('ocsf', 'bundle');`);
    this.addSql(`alter table "audit_export" drop constraint "audit_export_format_check";`);
    this.addSql(`alter table "audit_export" add constraint "audit_export_format_check" check ("format" in ('csv', 'jsonl'));`);
    this.addSql('drop table "audit_signing_key";');
  }
}

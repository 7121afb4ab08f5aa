import { Migration } from '@mikro-orm/migrations';
import { functionDefinition } from '../functions.ts';
import { asLocatorMember, handToLocator } from './locator-ownership.ts';
import { tenantTableAccess } from './tenant-table.ts';

const APP_ROLE = 'vigil_app';
const LOCATOR_ROLE = 'vigil_locator';
const DUE = 'vigil_notifications_due(text[], timestamptz)';

/**
 * E-mail notifications (issue 15): each company's notification cursor, which the application reads, creates
 * and advances in the company's transactions, and vigil_notifications_due, the locator that finds the companies
 * with mail to send (tenant ids only). A company that exists already starts at its journal's head: what
 * happened before mail existed is not mailed now. vigil_locator may delete a cursor with the company's purge.
 */
export class Migration20261202144137_notifications extends Migration {

  override name = 'Migration20261202144137_notifications';

  override up(): void | Promise<void> {
    this.addSql(`create table "notification_cursor" ("tenant_id" uuid not null, "last_seq" bigint not null default '0', "lease_id" uuid null, "leased_until" timestamptz null, "failures" int not null default 0, "retry_at" timestamptz null, "last_mailed_at" timestamptz null, primary key ("tenant_id"));`);

    this.addSql(`alter table "notification_cursor" add constraint "notification_cursor_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "notification_cursor" enable row level security;`);
    this.addSql(`alter table "notification_cursor" force row level security;`);
    this.addSql(`create policy "notification_cursor_tenant_isolation" on "notification_cursor" using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid) with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);`);
    this.addSql(`create policy "notification_cursor_locator" on "notification_cursor" for select to "vigil_locator" using (true);`);

    for (const statement of tenantTableAccess('notification_cursor', { app: ['select', 'insert', 'update'], located: true })) this.addSql(statement);
    this.addSql(`grant delete on notification_cursor to ${LOCATOR_ROLE};`);
    this.addSql(functionDefinition('vigil_notifications_due'));
    this.addSql(`revoke all on function ${DUE} from public;`);
    this.addSql(`grant execute on function ${DUE} to ${APP_ROLE};`);
    for (const statement of handToLocator([DUE])) this.addSql(statement);
    // Companies of before: their cursor at their journal's head, each under its own tenant setting (as a member
    // of vigil_locator, whose policy lists the companies, where the owner is not a superuser).
    for (const statement of asLocatorMember([STARTING_CURSORS])) this.addSql(statement);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists ${DUE};`);
    this.addSql(`drop table if exists "notification_cursor" cascade;`);
  }

}

const STARTING_CURSORS = `do $starting$ declare v_tenant uuid; begin
      for v_tenant in select id from tenant where id <> '00000000-0000-0000-0000-000000000000' loop
        perform set_config('app.tenant_id', v_tenant::text, true);
        insert into notification_cursor (tenant_id, last_seq)
          select v_tenant, coalesce(max(e.seq), 0) from audit_event e where e.tenant_id = v_tenant;
      end loop;
      perform set_config('app.tenant_id', '', true);
    end $starting$;`;

import { Migration } from '@mikro-orm/migrations';

const APP_ROLE = 'vigil_app';

/**
 * A verified sign-in's writes in one statement: the throttle's release, the session, the device and
 * their journal entries. Why a function: each round trip to the database costs the server a socket write
 * and the backend a wake-up, and a sign-in made seven of them after its password check (release, begin,
 * tenant setting, session, device, journal, commit). One statement is one implicit transaction, so it is
 * all or nothing as before; inside a caller's transaction (sign-up, invitation) it joins that one.
 *
 * Security invoker: it runs as the application role, under row-level security for the tenant it sets.
 * Rows come as JSON keyed by column (jsonb_populate_record), so a new column needs no change here.
 */
export class Migration20261125000000_open_session extends Migration {

  override name = 'Migration20261125000000_open_session';

  override up(): void | Promise<void> {
    // A success forgives: the account's (or device's) count is cleared, the address only gets this attempt back.
    // PL/pgSQL, not SQL: a SQL function's statements are planned again at every call.
    this.addSql(`create function vigil_release_sign_in(p_release jsonb) returns void language plpgsql
      set search_path = pg_catalog, public as $$
      begin
        delete from sign_in_throttle where key = p_release->>'account';
        update sign_in_throttle set failures = failures - 1 where key = p_release->>'address' and failures > 0 and locked_until is null;
      end $$;`);
    this.addSql(`create function vigil_open_session(p_tenant uuid, p_session jsonb, p_device jsonb, p_entries jsonb, p_release jsonb)
      returns table (device_id uuid, appended jsonb) language plpgsql
      set search_path = pg_catalog, public as $$
      declare
        v_device uuid;
        v_appended jsonb := '[]';
        e jsonb;
        a record;
      begin
        perform set_config('app.tenant_id', p_tenant::text, true);
        if p_release is not null then
          perform vigil_release_sign_in(p_release);
        end if;

        insert into "session" select * from jsonb_populate_record(null::"session", p_session);

        if p_device ? 'knownId' then
          -- The device proved itself with its cookie.
          update known_device set last_seen_at = (p_device->>'seenAt')::timestamptz, ip = p_device->>'ip', user_agent = p_device->>'userAgent'
            where id = (p_device->>'knownId')::uuid;
        else
          -- Known by address and agent but without its cookie: that device gets a fresh cookie.
          update known_device set secret_hash = p_device->'row'->>'secret_hash', last_seen_at = (p_device->'row'->>'last_seen_at')::timestamptz
            where id = (select k.id from known_device k where k.user_id = (p_device->'row'->>'user_id')::uuid
                          and k.ip is not distinct from p_device->'row'->>'ip' and k.user_agent is not distinct from p_device->'row'->>'user_agent' limit 1)
            returning id into v_device;
          if v_device is null then
            insert into known_device select * from jsonb_populate_record(null::known_device, p_device->'row') returning id into v_device;
          else
            -- Only a device never seen is news.
            p_entries := (select coalesce(jsonb_agg(x), '[]') from jsonb_array_elements(p_entries) x where not coalesce((x->>'onlyForNewDevice')::boolean, false));
          end if;
        end if;

        for e in select value from jsonb_array_elements(p_entries) loop
          select * into a from vigil_append_audit(p_tenant, e->>'prefix', e->>'suffix', e->'event');
          v_appended := v_appended || jsonb_build_object('id', e->'event'->>'id', 'seq', a.seq, 'prev_hash', a.prev_hash, 'hash', a.hash);
        end loop;
        return query select v_device, v_appended;
      end $$;`);
    for (const fn of ['vigil_release_sign_in', 'vigil_open_session']) {
      this.addSql(`revoke all on function ${fn} from public;`);
      this.addSql(`grant execute on function ${fn} to ${APP_ROLE};`);
    }
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists vigil_open_session;`);
    this.addSql(`drop function if exists vigil_release_sign_in;`);
  }

}

import { Migration } from '@mikro-orm/migrations';

const APP_ROLE = 'vigil_app';
const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** Tables the application may read and write; audit_event is append-only and handled apart. */
const READ_WRITE_TABLES = [
  'tenant',
  'role',
  'app_user',
  'session',
  'retired_session_secret',
  'known_device',
  'sign_in_throttle',
  'sign_in_challenge',
  'recovery_code',
  'invitation',
  'api_key',
  'scheduled_job',
  'audit_export',
];

/**
 * Locators map an unguessable id from a credential to its tenant, before any tenant is known.
 * SECURITY DEFINER lets them read past row-level security, but they return the tenant id only.
 */
const LOCATORS: Array<{ name: string; arg: string; sql: string }> = [
  {
    name: 'vigil_tenant_by_slug',
    arg: 'p_slug text',
    sql: `select id from tenant where slug = p_slug and id <> '${PLATFORM_TENANT_ID}'`,
  },
  { name: 'vigil_tenant_of_session', arg: 'p_id uuid', sql: 'select tenant_id from session where id = p_id' },
  { name: 'vigil_tenant_of_invitation', arg: 'p_id uuid', sql: 'select tenant_id from invitation where id = p_id' },
  { name: 'vigil_tenant_of_api_key', arg: 'p_id uuid', sql: 'select tenant_id from api_key where id = p_id' },
  {
    name: 'vigil_tenant_of_sign_in_challenge',
    arg: 'p_id uuid',
    sql: 'select tenant_id from sign_in_challenge where id = p_id',
  },
];

/**
 * What the entity metadata cannot say: the application role and its grants, the append-only journal,
 * the locator functions, and the platform tenant that owns events of no customer.
 */
export class Migration20261123235959_security extends Migration {
  override up(): void {
    // Concurrent first starts (or test files) may race to create the cluster-wide role.
    this.addSql(`do $$ begin
      create role ${APP_ROLE} login nosuperuser nobypassrls nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null; end $$;`);
    this.addSql(`grant usage on schema public to ${APP_ROLE};`);
    this.addSql(`grant select, insert, update, delete on ${READ_WRITE_TABLES.join(', ')} to ${APP_ROLE};`);
    this.addSql(`grant select, insert on audit_event to ${APP_ROLE};`);

    this.addSql(`create function vigil_refuse_audit_change() returns trigger language plpgsql as $$
      begin raise exception 'audit_event is append-only' using errcode = 'insufficient_privilege'; end $$;`);
    this.addSql(`create trigger audit_event_append_only before update or delete on audit_event
      for each row execute function vigil_refuse_audit_change();`);
    this.addSql(`create trigger audit_event_no_truncate before truncate on audit_event
      for each statement execute function vigil_refuse_audit_change();`);

    for (const locator of LOCATORS) {
      this.addSql(`create function ${locator.name}(${locator.arg}) returns uuid language sql stable
        security definer set search_path = pg_catalog, public as $$ ${locator.sql} $$;`);
      this.addSql(`revoke all on function ${locator.name} from public;`);
      this.addSql(`grant execute on function ${locator.name} to ${APP_ROLE};`);
    }

    // Authentication in one round trip, batched: each credential's row with its user (never its password
    // hash or TOTP secret), role and tenant, for the application to check before it sets that tenant.
    const userColumns = "to_jsonb(u) - 'password_hash' - 'totp_secret_enc'";
    this.addSql(`create function vigil_session_auth(p_ids uuid[]) returns setof json language plpgsql stable
      security definer set search_path = pg_catalog, public as $$ begin
        return query select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', ${userColumns}, 'session', to_json(s))
          from session s
          join app_user u on u.id = s.user_id and u.tenant_id = s.tenant_id
          join role r on r.id = u.role_id and r.tenant_id = s.tenant_id
          join tenant t on t.id = s.tenant_id
          where s.id = any(p_ids);
      end $$;`);
    this.addSql(`create function vigil_api_key_auth(p_ids uuid[]) returns setof json language plpgsql stable
      security definer set search_path = pg_catalog, public as $$ begin
        return query select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', ${userColumns}, 'apiKey', to_jsonb(k) - 'pending_secret_enc')
          from api_key k
          join app_user u on u.id = k.user_id and u.tenant_id = k.tenant_id
          join role r on r.id = u.role_id and r.tenant_id = k.tenant_id
          join tenant t on t.id = k.tenant_id
          where k.id = any(p_ids);
      end $$;`);
    // Sign-in by company address and email in one statement: the tenant, and the user with the password
    // hash to verify (null when unknown: the caller then verifies a dummy hash, as long as a real one).
    this.addSql(`create function vigil_sign_in_account(p_slug text, p_email text) returns json language plpgsql stable
      security definer set search_path = pg_catalog, public as $$ begin
        return (select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', to_jsonb(u) - 'totp_secret_enc')
          from tenant t
          left join app_user u on u.tenant_id = t.id and u.email = p_email
          left join role r on r.id = u.role_id and r.tenant_id = t.id
          where t.slug = p_slug and t.id <> '${PLATFORM_TENANT_ID}');
      end $$;`);
    for (const fn of ['vigil_session_auth', 'vigil_api_key_auth', 'vigil_sign_in_account']) {
      this.addSql(`revoke all on function ${fn} from public;`);
      this.addSql(`grant execute on function ${fn} to ${APP_ROLE};`);
    }

    // The sign-in throttle in one statement: reserve an attempt on each key in order (address, then account),
    // under the row lock an upsert takes, stopping at the first key that is locked or must wait.
    this.addSql(`create function vigil_reserve_sign_in(p_now timestamptz, p_attempts jsonb) returns jsonb language plpgsql as $$
      declare
        a jsonb;
        r sign_in_throttle%rowtype;
        v_delay int;
        v_ready timestamptz;
        v_locks boolean;
        v_done jsonb := '[]';
      begin
        for a in select value from jsonb_array_elements(p_attempts) loop
          insert into sign_in_throttle as t (key, failures, last_attempt_at, locked_until) values (a->>'key', 0, p_now, null)
            on conflict (key) do update set key = t.key
            returning * into r;
          if r.locked_until is not null and r.locked_until > p_now then
            return jsonb_build_object('retryAfter', ceil(extract(epoch from r.locked_until - p_now)));
          end if;
          if p_now - r.last_attempt_at > make_interval(secs => (a->>'windowSeconds')::int) then r.failures := 0; end if;
          v_delay := case when r.failures < (a->>'delayFrom')::int then 0
                          else least(power(2, r.failures - (a->>'delayFrom')::int)::int, (a->>'maxDelaySeconds')::int) end;
          v_ready := r.last_attempt_at + make_interval(secs => v_delay);
          if v_delay > 0 and v_ready > p_now then
            return jsonb_build_object('retryAfter', greatest(1, ceil(extract(epoch from v_ready - p_now))));
          end if;
          v_locks := r.failures + 1 >= (a->>'lockAt')::int;
          update sign_in_throttle set
            failures = case when v_locks then 0 else r.failures + 1 end,
            last_attempt_at = greatest(r.last_attempt_at, p_now),
            locked_until = case when v_locks then p_now + make_interval(secs => (a->>'lockSeconds')::int) else null end
            where key = r.key;
          v_done := v_done || jsonb_build_object('key', r.key, 'locksOnFailure', v_locks);
        end loop;
        return jsonb_build_object('reserved', v_done);
      end $$;`);

    // One journal entry in one statement: under the tenant's lock, the next seq and the chain hash over
    // the previous hash and the canonical JSON the application built (its "seq" value left for here).
    this.addSql(`create function vigil_append_audit(p_tenant uuid, p_prefix text, p_suffix text, p_event jsonb)
      returns table (seq bigint, prev_hash text, hash text) language plpgsql as $$
      #variable_conflict use_column
      declare
        v_seq bigint;
        v_prev text;
        v_hash text;
      begin
        perform pg_advisory_xact_lock(hashtextextended('vigil.audit:' || p_tenant::text, 0));
        select e.seq, e.hash into v_seq, v_prev from audit_event e where e.tenant_id = p_tenant order by e.seq desc limit 1;
        v_seq := coalesce(v_seq, 0) + 1;
        v_prev := coalesce(v_prev, repeat('0', 64));
        v_hash := encode(sha256(convert_to(v_prev || p_prefix || v_seq::text || p_suffix, 'UTF8')), 'hex');
        insert into audit_event (id, tenant_id, seq, occurred_at, action, outcome, actor_type, actor_id, target_type, target_id,
                                 ip, user_agent, session_id, details, prev_hash, hash)
          values ((p_event->>'id')::uuid, p_tenant, v_seq, (p_event->>'occurredAt')::timestamptz, p_event->>'action',
                  p_event->>'outcome', p_event->>'actorType', (p_event->>'actorId')::uuid, p_event->>'targetType',
                  (p_event->>'targetId')::uuid, p_event->>'ip', p_event->>'userAgent', (p_event->>'sessionId')::uuid,
                  p_event->'details', v_prev, v_hash);
        return query select v_seq, v_prev, v_hash;
      end $$;`);

    // Background jobs visit each tenant in turn, under that tenant's setting.
    this.addSql(`create function vigil_tenant_ids() returns setof uuid language sql stable
      security definer set search_path = pg_catalog, public as $$
      select id from tenant where id <> '${PLATFORM_TENANT_ID}' order by created_at $$;`);
    this.addSql(`revoke all on function vigil_tenant_ids from public;`);
    this.addSql(`grant execute on function vigil_tenant_ids to ${APP_ROLE};`);

    // The owner is subject to row-level security too (FORCE), so it names the tenant it writes.
    this.addSql(`select set_config('app.tenant_id', '${PLATFORM_TENANT_ID}', true);`);
    this.addSql(`insert into tenant (id, slug, name, created_at, idle_timeout_seconds, absolute_timeout_seconds,
      rotation_interval_seconds, rotation_grace_seconds, api_key_max_age_days)
      values ('${PLATFORM_TENANT_ID}', '-platform-', 'Vigil platform', now(), 1800, 43200, 300, 30, 182);`);
  }
}

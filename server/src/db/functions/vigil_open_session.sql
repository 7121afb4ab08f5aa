-- A verified sign-in's writes in one statement: the throttle's release, the session, the device and
-- their journal entries (through vigil_append_audit, as every entry).
CREATE OR REPLACE FUNCTION public.vigil_open_session(p_tenant uuid, p_session jsonb, p_device jsonb, p_entries jsonb, p_release jsonb)
 RETURNS TABLE(device_id uuid, appended jsonb)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_device uuid;
        v_appended jsonb;
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

        select coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'seq', a.seq, 'prev_hash', a.prev_hash, 'hash', a.hash) order by a.seq), '[]')
          into v_appended from vigil_append_audit(p_tenant, p_entries) a;
        return query select v_device, v_appended;
      end $function$

-- The sign-in throttle in one statement: reserve an attempt on each key in order, under the row lock
-- an upsert takes.
CREATE OR REPLACE FUNCTION public.vigil_reserve_sign_in(p_now timestamp with time zone, p_attempts jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
                          else least(power(2, least(r.failures - (a->>'delayFrom')::int, 30)), (a->>'maxDelaySeconds')::int)::int end;
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
      end $function$

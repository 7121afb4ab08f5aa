-- The one way into a journal: the entries in order, under the tenant's advisory lock, each with the next seq
-- and its chain link (vigil_chain_hash) over the one before.
CREATE OR REPLACE FUNCTION public.vigil_append_audit(p_tenant uuid, p_entries jsonb)
 RETURNS TABLE(id uuid, seq bigint, prev_hash text, hash text)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      declare
        v_seq bigint;
        v_prev text;
        v_hash text;
        v_entry jsonb;
        v_event jsonb;
      begin
        perform pg_advisory_xact_lock(hashtextextended('vigil.audit:' || p_tenant::text, 0));
        select e.seq, e.hash into v_seq, v_prev from audit_event e where e.tenant_id = p_tenant order by e.seq desc limit 1;
        v_seq := coalesce(v_seq, 0);
        v_prev := coalesce(v_prev, repeat('0', 64));
        for v_entry in select value from jsonb_array_elements(p_entries) loop
          v_seq := v_seq + 1;
          v_event := v_entry->'event';
          v_hash := vigil_chain_hash(v_prev, v_entry->>'prefix', v_seq, v_entry->>'suffix');
          insert into audit_event (id, tenant_id, seq, occurred_at, action, outcome, actor_type, actor_id, target_type, target_id,
                                   ip, user_agent, session_id, details, prev_hash, hash)
            values ((v_event->>'id')::uuid, p_tenant, v_seq, (v_event->>'occurredAt')::timestamptz, v_event->>'action',
                    v_event->>'outcome', v_event->>'actorType', (v_event->>'actorId')::uuid, v_event->>'targetType',
                    (v_event->>'targetId')::uuid, v_event->>'ip', v_event->>'userAgent', (v_event->>'sessionId')::uuid,
                    v_event->'details', v_prev, v_hash);
          return query select (v_event->>'id')::uuid, v_seq, v_prev, v_hash;
          v_prev := v_hash;
        end loop;
      end $function$

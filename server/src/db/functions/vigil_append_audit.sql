-- One journal entry: under the tenant's advisory lock, the next seq and the chain hash over the
-- previous hash and the canonical JSON the application built.
CREATE OR REPLACE FUNCTION public.vigil_append_audit(p_tenant uuid, p_prefix text, p_suffix text, p_event jsonb)
 RETURNS TABLE(seq bigint, prev_hash text, hash text)
 LANGUAGE plpgsql
AS $function$
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
      end $function$

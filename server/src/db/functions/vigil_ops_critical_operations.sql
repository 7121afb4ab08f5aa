-- The operators' queue (issue 15): every company's critical operations with what verifying them needs (kind,
-- parameters, their hash, the reason, the timeline) and the company's name, nothing else of it. Owned by
-- vigil_locator; executed by vigil_ops.
CREATE OR REPLACE FUNCTION public.vigil_ops_critical_operations()
 RETURNS TABLE(id uuid, tenant_id uuid, tenant_name text, kind text, state text, params jsonb, intent_hash text, reason text, requested_at timestamp with time zone, expires_at timestamp with time zone, verified_by uuid, verified_at timestamp with time zone, verification jsonb, approved_by uuid, approved_at timestamp with time zone, accept_by timestamp with time zone, accepted_at timestamp with time zone, executes_at timestamp with time zone, executed_at timestamp with time zone, purge_at timestamp with time zone, legal_hold boolean, closed_at timestamp with time zone, close_reason text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select c.id, c.tenant_id, t.name::text, c.kind::text, c.state::text, c.params, c.intent_hash::text, c.reason::text, c.requested_at, c.expires_at,
        c.verified_by, c.verified_at, c.verification, c.approved_by, c.approved_at, c.accept_by, c.accepted_at, c.executes_at, c.executed_at, c.purge_at,
        c.legal_hold, c.closed_at, c.close_reason::text
        from critical_operation c join tenant t on t.id = c.tenant_id
        order by c.requested_at desc $function$

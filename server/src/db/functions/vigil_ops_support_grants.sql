-- The support grants in force, and break-glasses waiting for the second operator (issue 15): what the grant
-- says (scopes, reason, case, deadlines) and the company's name, nothing of the company's data. Owned by
-- vigil_locator; executed by vigil_ops.
CREATE OR REPLACE FUNCTION public.vigil_ops_support_grants(p_now timestamp with time zone)
 RETURNS TABLE(id uuid, tenant_id uuid, tenant_name text, kind text, scopes text[], reason text, case_reference text, justification text, requested_by_operator uuid, approved_by_operator uuid, created_at timestamp with time zone, approved_at timestamp with time zone, expires_at timestamp with time zone)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select g.id, g.tenant_id, t.name::text, g.kind::text, g.scopes, g.reason::text, g.case_reference::text, g.justification::text,
        g.requested_by_operator, g.approved_by_operator, g.created_at, g.approved_at, g.expires_at
        from support_grant g join tenant t on t.id = g.tenant_id
        where g.revoked_at is null and g.expires_at > p_now and t.disabled_at is null
        order by g.expires_at $function$

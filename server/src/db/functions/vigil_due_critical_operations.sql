-- Locator for the executor (issue 15): the critical operations of any company whose time has come, to execute,
-- to expire or to purge (a deletion thirty days on, without a legal hold), each then done under its row lock by
-- vigil_critical_transition or vigil_purge_tenant. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_due_critical_operations(p_now timestamp with time zone)
 RETURNS TABLE(tenant_id uuid, id uuid, transition text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select c.tenant_id, c.id, case c.state when 'cooling_off' then 'execute' when 'executed' then 'purge' else 'expire' end
        from critical_operation c
        where (c.state = 'cooling_off' and c.executes_at <= p_now)
           or (c.state in ('requested', 'verified') and c.expires_at <= p_now)
           or (c.state = 'approved' and c.accept_by <= p_now)
           or (c.state = 'executed' and c.kind = 'tenant.delete' and c.purge_at <= p_now and not c.legal_hold)
        order by c.requested_at $function$

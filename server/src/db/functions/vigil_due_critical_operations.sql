-- Locator for the executor (issue 15): the critical operations of any company whose time has come, to execute
-- or to expire, each then done by vigil_critical_transition under its row lock. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_due_critical_operations(p_now timestamp with time zone)
 RETURNS TABLE(tenant_id uuid, id uuid, transition text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select c.tenant_id, c.id, case when c.state = 'cooling_off' then 'execute' else 'expire' end
        from critical_operation c
        where (c.state = 'cooling_off' and c.executes_at <= p_now)
           or (c.state in ('requested', 'verified') and c.expires_at <= p_now)
           or (c.state = 'approved' and c.accept_by <= p_now)
        order by c.requested_at $function$

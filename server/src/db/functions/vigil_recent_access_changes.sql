-- The access signals of these tenants written in the last seconds: each instance's backstop for Redis.
-- Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_recent_access_changes(p_tenants uuid[], p_window_seconds integer)
 RETURNS TABLE(id uuid, tenant_id uuid, signal jsonb)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      select c.id, c.tenant_id, c.signal from access_change c
        where c.tenant_id = any(p_tenants) and c.recorded_at > clock_timestamp() - make_interval(secs => p_window_seconds)
        order by c.recorded_at $function$

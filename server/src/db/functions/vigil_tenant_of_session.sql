-- Locator: a session's tenant. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_tenant_of_session(p_id uuid)
 RETURNS uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select tenant_id from session where id = p_id $function$

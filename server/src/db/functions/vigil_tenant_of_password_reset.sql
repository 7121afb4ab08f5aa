-- Locator: a password reset's tenant. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_tenant_of_password_reset(p_id uuid)
 RETURNS uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select tenant_id from password_reset where id = p_id $function$

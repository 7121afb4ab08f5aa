-- Locator: the tenant of a company address (never the platform tenant). Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_tenant_by_slug(p_slug text)
 RETURNS uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select id from tenant where slug = p_slug and id <> '00000000-0000-0000-0000-000000000000' $function$

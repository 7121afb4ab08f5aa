-- Every customer tenant, for jobs that visit each under its own setting. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_tenant_ids()
 RETURNS SETOF uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      select id from tenant where id <> '00000000-0000-0000-0000-000000000000' order by created_at $function$

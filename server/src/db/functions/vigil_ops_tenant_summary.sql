-- What the operators see of each company (issue 15): id, name, state, creation and head count, nothing else.
-- Owned by vigil_locator (its SELECT policies on tenant and app_user); vigil_ops reads it through the view
-- ops_tenant_summary and has no grant on either table.
CREATE OR REPLACE FUNCTION public.vigil_ops_tenant_summary()
 RETURNS TABLE(id uuid, name text, state text, created_at timestamp with time zone, user_count integer)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select t.id, t.name::text, 'active'::text, t.created_at, (select count(*)::int from app_user u where u.tenant_id = t.id)
        from tenant t where t.id <> '00000000-0000-0000-0000-000000000000' order by t.created_at, t.id $function$

-- What the operators see of each company (issue 15): id, name, state, creation and head count, nothing else.
-- Owned by vigil_locator (its SELECT policies on tenant, app_user and critical_operation); vigil_ops reads it
-- through the view ops_tenant_summary and has no grant on any of those tables. PL/pgSQL, so that the migration
-- that first loaded this file can still load it (critical_operation came later).
CREATE OR REPLACE FUNCTION public.vigil_ops_tenant_summary()
 RETURNS TABLE(id uuid, name text, state text, created_at timestamp with time zone, user_count integer)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ begin
        return query select t.id, t.name::text,
          case when t.disabled_at is not null then 'disabled'
               when exists (select 1 from critical_operation c where c.tenant_id = t.id and c.kind = 'tenant.delete' and c.state = 'cooling_off') then 'deletion_scheduled'
               else 'active' end,
          t.created_at, (select count(*)::int from app_user u where u.tenant_id = t.id)
          from tenant t where t.id <> '00000000-0000-0000-0000-000000000000' order by t.created_at, t.id;
      end $function$

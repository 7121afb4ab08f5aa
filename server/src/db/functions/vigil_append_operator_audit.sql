-- The journal an operator's transaction appends to (issue 15): the platform journal and no customer's, through
-- the one append path. Owned by vigil_locator, whose policies on audit_event cover the platform tenant's rows
-- alone; executed by vigil_ops, which has no grant on audit_event.
CREATE OR REPLACE FUNCTION public.vigil_append_operator_audit(p_tenant uuid, p_entries jsonb)
 RETURNS TABLE(id uuid, seq bigint, prev_hash text, hash text)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ begin
        if p_tenant is distinct from '00000000-0000-0000-0000-000000000000'::uuid then
          raise exception 'operators journal in the platform journal only' using errcode = 'insufficient_privilege';
        end if;
        return query select a.id, a.seq, a.prev_hash, a.hash from vigil_append_audit(p_tenant, p_entries) a;
      end $function$

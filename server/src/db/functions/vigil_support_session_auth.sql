-- A support session with its grant and company, for authenticating `vsp_…` on /graphql before any tenant is
-- set (issue 15); whether the grant is still in force is judged by its caller on every request. Owned by
-- vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_support_session_auth(p_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select json_build_object('tenant', to_json(t), 'grant', to_json(g), 'session', to_json(s),
          'operator', json_build_object('id', o.id, 'display_name', o.display_name, 'disabled_at', o.disabled_at))
        from support_session s
        join support_grant g on g.id = s.grant_id and g.tenant_id = s.tenant_id
        join tenant t on t.id = s.tenant_id
        join platform_operator o on o.id = s.operator_id
        where s.id = p_id $function$

-- Sessions with their user (no password hash, no TOTP secret), role and tenant, for authentication
-- before any tenant is set. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_session_auth(p_ids uuid[])
 RETURNS SETOF json
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ begin
        return query select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', to_jsonb(u) - 'password_hash' - 'totp_secret_enc', 'session', to_json(s))
          from session s
          join app_user u on u.id = s.user_id and u.tenant_id = s.tenant_id
          join role r on r.id = u.role_id and r.tenant_id = s.tenant_id
          join tenant t on t.id = s.tenant_id
          where s.id = any(p_ids);
      end $function$

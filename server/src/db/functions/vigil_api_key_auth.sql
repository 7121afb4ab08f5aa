-- API keys with their user (no password hash, no TOTP secret), role and tenant, for authentication
-- before any tenant is set. Owned by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_api_key_auth(p_ids uuid[])
 RETURNS SETOF json
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ begin
        return query select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', to_jsonb(u) - 'password_hash' - 'totp_secret_enc', 'apiKey', to_jsonb(k) - 'pending_secret_enc')
          from api_key k
          join app_user u on u.id = k.user_id and u.tenant_id = k.tenant_id
          join role r on r.id = u.role_id and r.tenant_id = k.tenant_id
          join tenant t on t.id = k.tenant_id
          where k.id = any(p_ids);
      end $function$

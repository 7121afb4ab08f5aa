-- The tenant of a company address and its user with an email, with the password hash to verify. Owned
-- by vigil_locator.
CREATE OR REPLACE FUNCTION public.vigil_sign_in_account(p_slug text, p_email text)
 RETURNS json
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ begin
        return (select json_build_object('tenant', to_json(t), 'role', to_json(r), 'user', to_jsonb(u) - 'totp_secret_enc')
          from tenant t
          left join app_user u on u.tenant_id = t.id and u.email = p_email
          left join role r on r.id = u.role_id and r.tenant_id = t.id
          where t.slug = p_slug and t.id <> '00000000-0000-0000-0000-000000000000');
      end $function$

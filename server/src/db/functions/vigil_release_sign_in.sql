-- A success forgives: the account's (or device's) count is cleared, the address only gets this attempt
-- back.
CREATE OR REPLACE FUNCTION public.vigil_release_sign_in(p_release jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      begin
        delete from sign_in_throttle where key = p_release->>'account';
        update sign_in_throttle set failures = failures - 1 where key = p_release->>'address' and failures > 0 and locked_until is null;
      end $function$

-- audit_event is append-only, for everybody: the trigger function behind UPDATE, DELETE and TRUNCATE.
CREATE OR REPLACE FUNCTION public.vigil_refuse_audit_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin raise exception 'audit_event is append-only' using errcode = 'insufficient_privilege'; end $function$

-- audit_event is append-only, for everybody: the trigger function behind UPDATE, DELETE and TRUNCATE. One
-- exception, deliberate: the rows of a company whose deletion is being purged (vigil_purge_tenant marks the
-- operation purged, in its transaction, before it deletes; never under a legal hold).
CREATE OR REPLACE FUNCTION public.vigil_refuse_audit_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin
        if tg_op = 'DELETE' and tg_level = 'ROW' and exists (select 1 from critical_operation c
            where c.tenant_id = old.tenant_id and c.kind = 'tenant.delete' and c.state = 'purged' and not c.legal_hold) then
          return old;
        end if;
        raise exception 'audit_event is append-only' using errcode = 'insufficient_privilege';
      end $function$

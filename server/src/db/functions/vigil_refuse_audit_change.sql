-- audit_event is append-only, for everybody: the trigger function behind UPDATE, DELETE and TRUNCATE. Two
-- exceptions, deliberate: the rows of a company whose deletion is being purged (vigil_purge_tenant marks the
-- operation purged, in its transaction, before it deletes; never under a legal hold), and the rows at or before
-- the journal's anchor, which vigil_apply_retention moves to a signed checkpoint before it deletes them.
CREATE OR REPLACE FUNCTION public.vigil_refuse_audit_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin
        if tg_op = 'DELETE' and tg_level = 'ROW' and exists (select 1 from critical_operation c
            where c.tenant_id = old.tenant_id and c.kind = 'tenant.delete' and c.state = 'purged' and not c.legal_hold) then
          return old;
        end if;
        if tg_op = 'DELETE' and tg_level = 'ROW' and old.seq <= (select t.journal_anchor_seq from tenant t where t.id = old.tenant_id) then
          return old;
        end if;
        raise exception 'audit_event is append-only' using errcode = 'insufficient_privilege';
      end $function$

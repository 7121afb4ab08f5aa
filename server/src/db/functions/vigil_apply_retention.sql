-- A company's journal retention (issue 17): the events up to p_through_seq, whose hash p_hash a signed checkpoint
-- names, are removed, and that checkpoint becomes the chain's anchor (tenant.journal_anchor_seq/hash), from which
-- every verification starts. vigil_refuse_audit_change lets exactly those rows go. The caller journals the
-- removal in the same transaction. Refusals are VG001. Owned by vigil_locator; executed by vigil_app.
CREATE OR REPLACE FUNCTION public.vigil_apply_retention(p_tenant uuid, p_through_seq bigint, p_hash text)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_hash text;
        v_removed bigint;
      begin
        perform set_config('app.tenant_id', p_tenant::text, true);
        select e.hash into v_hash from audit_event e where e.tenant_id = p_tenant and e.seq = p_through_seq;
        if v_hash is distinct from p_hash then
          raise exception 'The anchor is not the journal''s event at that seq.' using errcode = 'VG001';
        end if;
        update tenant set journal_anchor_seq = p_through_seq, journal_anchor_hash = p_hash where id = p_tenant and journal_anchor_seq < p_through_seq;
        if not found then
          raise exception 'The journal is anchored at or past that seq already.' using errcode = 'VG001';
        end if;
        delete from audit_event where tenant_id = p_tenant and seq <= p_through_seq;
        get diagnostics v_removed = row_count;
        return v_removed;
      end $function$

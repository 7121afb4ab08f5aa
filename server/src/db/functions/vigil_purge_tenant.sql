-- The purge of a deleted company (issue 15), thirty days after its deletion executed: under the operation's row
-- lock, refused while a legal hold stands or before its date; every row of the company is deleted (its journal
-- too: vigil_refuse_audit_change lets a purged company's rows go, and nothing else), the counts must be those of
-- the signed receipt, and the receipt is appended to the platform journal in the same transaction. The tenant row
-- stays as a nameless tombstone, and the company's critical operations as the record of what was done.
-- Refusals are VG001/VG002 as in vigil_critical_transition. Owned by vigil_locator; executed by vigil_app.
CREATE OR REPLACE FUNCTION public.vigil_purge_tenant(p_tenant uuid, p_id uuid, p_now timestamp with time zone, p_receipt jsonb, p_entries jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_op critical_operation;
        v_head record;
        v_table text;
        v_deleted bigint;
        v_platform_rows jsonb;
        -- Children before parents (the foreign keys), the journal before the users it names.
        v_tables text[] := array['idempotent_request', 'support_session', 'support_grant', 'retired_session_secret', 'session', 'sign_in_challenge', 'recovery_code', 'known_device',
          'password_reset', 'invitation', 'api_key', 'audit_export', 'access_change', 'notification_cursor', 'webhook_delivery', 'webhook_endpoint', 'audit_event', 'app_user', 'role'];
      begin
        perform set_config('app.tenant_id', p_tenant::text, true);
        select * into v_op from critical_operation c where c.tenant_id = p_tenant and c.id = p_id for update;
        if not found then
          raise exception 'No such operation.' using errcode = 'VG002';
        end if;
        if v_op.kind <> 'tenant.delete' or v_op.state <> 'executed' then
          raise exception 'Only an executed deletion is purged.' using errcode = 'VG001';
        end if;
        if v_op.legal_hold then
          raise exception 'A legal hold keeps this company''s data.' using errcode = 'VG001';
        end if;
        if p_now < v_op.purge_at then
          raise exception 'It is not due.' using errcode = 'VG001';
        end if;
        select e.seq, e.hash into v_head from audit_event e where e.tenant_id = p_tenant order by e.seq desc limit 1;
        if (p_receipt->>'lastSeq')::bigint is distinct from v_head.seq or p_receipt->>'lastHash' is distinct from v_head.hash then
          raise exception 'The receipt does not name the head of the journal.' using errcode = 'VG001';
        end if;
        update critical_operation set state = 'purged', closed_at = p_now where tenant_id = p_tenant and id = p_id;
        foreach v_table in array v_tables loop
          execute format('delete from %I where tenant_id = $1', v_table) using p_tenant;
          get diagnostics v_deleted = row_count;
          if (p_receipt->'counts'->>v_table)::bigint is distinct from v_deleted then
            raise exception 'The receipt counts % rows of %, the purge deleted %.', p_receipt->'counts'->>v_table, v_table, v_deleted using errcode = 'VG001';
          end if;
        end loop;
        if (select count(*) from jsonb_object_keys(p_receipt->'counts')) <> cardinality(v_tables) then
          raise exception 'The receipt counts tables the purge does not know.' using errcode = 'VG001';
        end if;
        update tenant set name = 'Purged company', slug = 'purged-' || p_tenant::text where id = p_tenant;
        select coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) into v_platform_rows
          from vigil_append_audit('00000000-0000-0000-0000-000000000000'::uuid, p_entries->'platform') a;
        select * into v_op from critical_operation c where c.tenant_id = p_tenant and c.id = p_id;
        return jsonb_build_object('operation', to_jsonb(v_op), 'platform', v_platform_rows);
      end $function$

-- Every change of a critical operation (issue 15): one transition per call, under the row's lock, journalled in
-- the company's journal and the platform journal in the same statement. What must hold whoever calls is checked
-- here: the state, the exact intent hash, the deadlines, and who may act (the owner requests, owners and
-- administrators cancel, the named new owner accepts, an approved operator verifies, approves, denies and holds;
-- Vigil's executor expires, executes, and holds a purge it refused because the company's journal did not verify).
-- Refusals are SQLSTATE VG001 (a failed precondition) and VG002 (no such operation). Owned by vigil_locator;
-- executed by vigil_app (the company's side and the executor) and vigil_ops (the operators).
CREATE OR REPLACE FUNCTION public.vigil_critical_transition(p_tenant uuid, p_id uuid, p_transition text, p_actor jsonb, p_input jsonb, p_now timestamp with time zone, p_entries jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_op critical_operation;
        v_type text := p_actor->>'type';
        v_actor uuid := (p_actor->>'id')::uuid;
        v_tenant_rows jsonb;
        v_platform_rows jsonb;
      begin
        perform set_config('app.tenant_id', p_tenant::text, true);
        if p_transition = 'request' then
          if v_type is distinct from 'user' or not exists (select 1 from app_user u join role r on r.id = u.role_id and r.tenant_id = u.tenant_id
              where u.tenant_id = p_tenant and u.id = v_actor and u.disabled_at is null and r.built_in = 'owner') then
            raise exception 'Only the owner requests this.' using errcode = 'VG001';
          end if;
          if exists (select 1 from critical_operation c where c.tenant_id = p_tenant and c.state in ('requested', 'verified', 'approved', 'cooling_off')) then
            raise exception 'Another deletion or transfer of this company is in progress.' using errcode = 'VG001';
          end if;
          insert into critical_operation select * from jsonb_populate_record(null::critical_operation, p_input->'row');
        else
          select * into v_op from critical_operation c where c.tenant_id = p_tenant and c.id = p_id for update;
          if not found then
            raise exception 'No such operation.' using errcode = 'VG002';
          end if;
          if p_transition in ('verify', 'approve', 'deny', 'hold') and (v_type is distinct from 'operator'
              or not exists (select 1 from platform_operator o where o.id = v_actor and o.approved_at is not null and o.disabled_at is null)) then
            raise exception 'Only a platform operator does this.' using errcode = 'VG001';
          end if;
          if p_transition in ('verify', 'approve') and (p_input->>'intentHash') is distinct from v_op.intent_hash then
            raise exception 'These are not the parameters that were requested (intent hash).' using errcode = 'VG001';
          end if;
          if p_transition in ('verify', 'approve') and p_now >= v_op.expires_at then
            raise exception 'The request expired.' using errcode = 'VG001';
          end if;
          if p_transition = 'verify' then
            if v_op.state <> 'requested' then raise exception 'It is not waiting for verification.' using errcode = 'VG001'; end if;
            update critical_operation set state = 'verified', verified_by = v_actor, verified_at = p_now, verification = p_input->'verification'
              where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'approve' then
            if v_op.state <> 'verified' or v_op.approved_by is not null then raise exception 'It is not waiting for approval.' using errcode = 'VG001'; end if;
            update critical_operation set approved_by = v_actor, approved_at = p_now,
                state = case when v_op.kind = 'tenant.delete' then 'cooling_off' else 'approved' end,
                executes_at = case when v_op.kind = 'tenant.delete' then p_now + make_interval(secs => (p_input->>'coolingOffSeconds')::int) end,
                accept_by = case when v_op.kind = 'tenant.transfer_ownership' then p_now + make_interval(secs => (p_input->>'acceptSeconds')::int) end
              where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'accept' then
            if v_op.state <> 'approved' or p_now >= v_op.accept_by then raise exception 'It is not waiting for acceptance.' using errcode = 'VG001'; end if;
            if v_type is distinct from 'user' or v_actor::text is distinct from v_op.params->>'newOwnerId' then
              raise exception 'Only the new owner accepts.' using errcode = 'VG001';
            end if;
            update critical_operation set state = 'cooling_off', accepted_at = p_now, executes_at = p_now where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'cancel' then
            if v_op.state not in ('requested', 'verified', 'approved', 'cooling_off') then raise exception 'It can no longer be cancelled.' using errcode = 'VG001'; end if;
            if v_type is distinct from 'user' or not exists (select 1 from app_user u join role r on r.id = u.role_id and r.tenant_id = u.tenant_id
                where u.tenant_id = p_tenant and u.id = v_actor and u.disabled_at is null and (r.built_in = 'owner' or 'company.critical_operations' = any(r.permissions))) then
              raise exception 'Only an owner or an administrator cancels.' using errcode = 'VG001';
            end if;
            update critical_operation set state = 'cancelled', closed_at = p_now, closed_by = v_actor, close_reason = p_input->>'reason' where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'deny' then
            if v_op.state not in ('requested', 'verified', 'approved', 'cooling_off') then raise exception 'It can no longer be denied.' using errcode = 'VG001'; end if;
            update critical_operation set state = 'denied', closed_at = p_now, closed_by = v_actor, close_reason = p_input->>'reason' where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'hold' then
            if v_op.kind <> 'tenant.delete' or v_op.state not in ('requested', 'verified', 'cooling_off', 'executed') then
              raise exception 'Only a deletion not yet purged can be held.' using errcode = 'VG001';
            end if;
            update critical_operation set legal_hold = (p_input->>'legalHold')::boolean where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'refuse_purge' then
            if v_op.kind <> 'tenant.delete' or v_op.state <> 'executed' or v_type is distinct from 'system' then
              raise exception 'Only Vigil refuses a purge, of an executed deletion.' using errcode = 'VG001';
            end if;
            update critical_operation set legal_hold = true where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'expire' then
            if not ((v_op.state in ('requested', 'verified') and p_now >= v_op.expires_at) or (v_op.state = 'approved' and p_now >= v_op.accept_by)) then
              raise exception 'It has not expired.' using errcode = 'VG001';
            end if;
            update critical_operation set state = 'expired', closed_at = p_now where tenant_id = p_tenant and id = p_id;
          elsif p_transition = 'execute' then
            if v_op.state <> 'cooling_off' or p_now < v_op.executes_at then raise exception 'It is not due.' using errcode = 'VG001'; end if;
            update critical_operation set state = 'executed', executed_at = p_now,
                purge_at = case when v_op.kind = 'tenant.delete' then p_now + make_interval(secs => (p_input->>'purgeAfterSeconds')::int) end
              where tenant_id = p_tenant and id = p_id;
          else
            raise exception 'Unknown transition %.', p_transition using errcode = 'VG001';
          end if;
        end if;
        select * into v_op from critical_operation c where c.tenant_id = p_tenant and c.id = p_id;
        select coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) into v_tenant_rows from vigil_append_audit(p_tenant, p_entries->'tenant') a;
        select coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) into v_platform_rows
          from vigil_append_audit('00000000-0000-0000-0000-000000000000'::uuid, p_entries->'platform') a;
        return jsonb_build_object('operation', to_jsonb(v_op), 'tenant', v_tenant_rows, 'platform', v_platform_rows);
      end $function$

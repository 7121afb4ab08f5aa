-- An operator's support session under a grant in force (issue 15), and the break-glass of both operators,
-- each journalled in the company's journal and the platform journal in the same statement. p_step: 'session'
-- (open a session: the grant approved, in force, its company active), 'break_glass' (one operator asks: a
-- pending grant of an hour), 'approve_break_glass' (the other operator opens it for at most an hour). Refusals
-- are VG001/VG002 as in vigil_critical_transition. Owned by vigil_locator; executed by vigil_ops.
CREATE OR REPLACE FUNCTION public.vigil_support_open(p_tenant uuid, p_step text, p_operator uuid, p_input jsonb, p_now timestamp with time zone, p_entries jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_grant support_grant;
        v_id uuid := (p_input->>'id')::uuid;
        v_session_expires timestamp with time zone;
        v_tenant_rows jsonb;
        v_platform_rows jsonb;
      begin
        perform set_config('app.tenant_id', p_tenant::text, true);
        if not exists (select 1 from platform_operator o where o.id = p_operator and o.approved_at is not null and o.disabled_at is null) then
          raise exception 'Only a platform operator does this.' using errcode = 'VG001';
        end if;
        if not exists (select 1 from tenant t where t.id = p_tenant and t.disabled_at is null) then
          raise exception 'No such company.' using errcode = 'VG002';
        end if;
        if p_step = 'break_glass' then
          insert into support_grant (id, tenant_id, kind, scopes, reason, case_reference, requested_by_operator, justification, created_at, expires_at)
            values (v_id, p_tenant, 'break_glass', array(select jsonb_array_elements_text(p_input->'scopes')), p_input->>'reason', p_input->>'caseReference',
              p_operator, p_input->>'justification', p_now, p_now + interval '1 hour');
        else
          select * into v_grant from support_grant g where g.tenant_id = p_tenant and g.id = v_id for update;
          if not found then
            raise exception 'No such grant.' using errcode = 'VG002';
          end if;
          if v_grant.revoked_at is not null or p_now >= v_grant.expires_at then
            raise exception 'The grant is no longer in force.' using errcode = 'VG001';
          end if;
          if p_step = 'approve_break_glass' then
            if v_grant.kind <> 'break_glass' or v_grant.approved_at is not null then
              raise exception 'It is not waiting for the second operator.' using errcode = 'VG001';
            end if;
            if v_grant.requested_by_operator = p_operator then
              raise exception 'A break-glass needs both operators: the other one approves it.' using errcode = 'VG001';
            end if;
            update support_grant set approved_by_operator = p_operator, approved_at = p_now, expires_at = p_now + interval '1 hour'
              where tenant_id = p_tenant and id = v_id;
          elsif p_step = 'session' then
            if v_grant.approved_at is null then
              raise exception 'The break-glass waits for the second operator.' using errcode = 'VG001';
            end if;
            v_session_expires := least(v_grant.expires_at, p_now + interval '8 hours');
            insert into support_session (id, tenant_id, grant_id, operator_id, secret_hash, created_at, expires_at)
              values ((p_input->>'sessionId')::uuid, p_tenant, v_id, p_operator, p_input->>'secretHash', p_now, v_session_expires);
          else
            raise exception 'Unknown step %.', p_step using errcode = 'VG001';
          end if;
        end if;
        select * into v_grant from support_grant g where g.tenant_id = p_tenant and g.id = v_id;
        select coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) into v_tenant_rows from vigil_append_audit(p_tenant, p_entries->'tenant') a;
        select coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) into v_platform_rows
          from vigil_append_audit('00000000-0000-0000-0000-000000000000'::uuid, p_entries->'platform') a;
        return jsonb_build_object('grant', to_jsonb(v_grant), 'sessionExpiresAt', v_session_expires, 'tenant', v_tenant_rows, 'platform', v_platform_rows);
      end $function$

-- Locator for the webhook deliverer (issue 17): the companies with an active endpoint whose cursor is behind
-- their journal, not leased by another instance, and not waiting for a retry at p_now. Tenant ids only. A
-- company's journal shows its rows under its own tenant setting alone, so each company's is read under its id
-- in turn, and the caller's setting is put back. Owned by vigil_locator; executed by vigil_app.
CREATE OR REPLACE FUNCTION public.vigil_webhooks_due(p_now timestamp with time zone)
 RETURNS SETOF uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_setting text := current_setting('app.tenant_id', true);
        v_tenant uuid;
        v_last bigint;
        v_seen uuid[] := '{}';
      begin
        for v_tenant, v_last in
          select w.tenant_id, w.last_seq from webhook_endpoint w
            where w.state = 'active' and (w.leased_until is null or w.leased_until <= p_now) and (w.next_attempt_at is null or w.next_attempt_at <= p_now)
            order by w.created_at
        loop
          continue when v_tenant = any(v_seen);
          perform set_config('app.tenant_id', v_tenant::text, true);
          if exists (select 1 from audit_event e where e.tenant_id = v_tenant and e.seq > v_last) then
            v_seen := v_seen || v_tenant;
            return next v_tenant;
          end if;
        end loop;
        perform set_config('app.tenant_id', coalesce(v_setting, ''), true);
      end $function$

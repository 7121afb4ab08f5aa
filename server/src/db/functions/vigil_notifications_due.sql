-- Locator for the notifier (issue 15): the companies whose journal holds an event of p_actions past their
-- notification cursor (none yet: from the start), unless another instance leases the cursor or a failed mail
-- waits for its retry at p_now. Tenant ids only. A company's journal shows its rows under its own tenant setting
-- alone, so each company's is read under its id in turn, and the caller's setting is put back. Owned by
-- vigil_locator; executed by vigil_app.
CREATE OR REPLACE FUNCTION public.vigil_notifications_due(p_actions text[], p_now timestamp with time zone)
 RETURNS SETOF uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
      declare
        v_setting text := current_setting('app.tenant_id', true);
        v_tenant uuid;
        v_last bigint;
      begin
        for v_tenant, v_last in
          select t.id, coalesce(c.last_seq, 0) from tenant t left join notification_cursor c on c.tenant_id = t.id
            where t.id <> '00000000-0000-0000-0000-000000000000'
              and (c.leased_until is null or c.leased_until <= p_now) and (c.retry_at is null or c.retry_at <= p_now)
            order by t.created_at
        loop
          perform set_config('app.tenant_id', v_tenant::text, true);
          if exists (select 1 from audit_event e where e.tenant_id = v_tenant and e.action = any(p_actions) and e.seq > v_last) then
            return next v_tenant;
          end if;
        end loop;
        perform set_config('app.tenant_id', coalesce(v_setting, ''), true);
      end $function$

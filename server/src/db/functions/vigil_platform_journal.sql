-- The platform journal as the operators' console shows it (issue 15), newest first: the operators' own work
-- (operator., critical_operation., support., platform., journal. actions), not the sign-in attempts against unknown
-- companies that also land there (an email typed under the wrong company is a customer's). Owned by
-- vigil_locator; executed by vigil_ops.
CREATE OR REPLACE FUNCTION public.vigil_platform_journal(p_before_seq bigint, p_limit integer)
 RETURNS TABLE(seq bigint, occurred_at timestamp with time zone, action text, outcome text, actor_type text, actor_id uuid, target_type text, target_id uuid, details jsonb, hash text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$ select e.seq, e.occurred_at, e.action::text, e.outcome::text, e.actor_type::text, e.actor_id, e.target_type::text, e.target_id, e.details, e.hash::text
        from audit_event e
        where e.tenant_id = '00000000-0000-0000-0000-000000000000' and (p_before_seq is null or e.seq < p_before_seq)
          and split_part(e.action, '.', 1) in ('operator', 'critical_operation', 'support', 'platform', 'journal')
        order by e.seq desc limit least(greatest(p_limit, 1), 200) $function$

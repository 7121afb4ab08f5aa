import type { EntityManager } from '@mikro-orm/postgresql';
import { type AttentionGroup, attentionGroups } from './actions.ts';

export interface TimeBucket {
  start: Date;
  count: number;
}

export interface AuditStatistics {
  eventsPerMinute: TimeBucket[];
  failedSignInsPerHour: TimeBucket[];
  attention: Record<AttentionGroup, number>;
}

const ATTENTION = attentionGroups();

/** What the overview shows: activity over the last hour, failed sign-ins over the last day, counts to look at. */
export async function auditStatistics(em: EntityManager, now: Date): Promise<AuditStatistics> {
  const minute = 60_000;
  const hour = 60 * minute;
  const hourAgo = new Date(Math.floor(now.getTime() / minute) * minute - 59 * minute);
  const dayAgo = new Date(Math.floor(now.getTime() / hour) * hour - 23 * hour);
  const perMinute = await em.execute<{ bucket: Date | string; n: number }[]>(
    `select date_trunc('minute', occurred_at) as bucket, count(*)::int as n from audit_event where occurred_at >= ? group by 1`,
    [hourAgo],
  );
  const failedPerHour = await em.execute<{ bucket: Date | string; n: number }[]>(
    `select date_trunc('hour', occurred_at) as bucket, count(*)::int as n from audit_event
     where occurred_at >= ? and action = 'session.sign_in_failed' group by 1`,
    [dayAgo],
  );
  const since = new Date(now.getTime() - 24 * hour);
  const byAction = await em.execute<{ action: string; n: number }[]>(
    `select action, count(*)::int as n from audit_event where occurred_at >= ? and action = any(?::text[]) group by action`,
    [since, `{${Object.values(ATTENTION).flat().join(',')}}`],
  );
  const countOf = (actions: readonly string[]) => byAction.filter((r) => actions.includes(r.action)).reduce((sum, r) => sum + Number(r.n), 0);
  return {
    eventsPerMinute: buckets(hourAgo, minute, 60, perMinute),
    failedSignInsPerHour: buckets(dayAgo, hour, 24, failedPerHour),
    attention: Object.fromEntries(Object.entries(ATTENTION).map(([name, actions]) => [name, countOf(actions)])) as AuditStatistics['attention'],
  };
}

function buckets(start: Date, width: number, count: number, rows: Array<{ bucket: Date | string; n: number }>): TimeBucket[] {
  const counts = new Map(rows.map((r) => [new Date(r.bucket).getTime(), Number(r.n)]));
  return Array.from({ length: count }, (_, i) => {
    const at = start.getTime() + i * width;
    return { start: new Date(at), count: counts.get(at) ?? 0 };
  });
}

import type { EntityManager } from '@mikro-orm/postgresql';
import type { Database } from '../db/database.ts';
import type { EventBus } from '../event-bus.ts';
import { jsonOf } from '../db/rows.ts';

/**
 * Published after a commit that may take access away: sessions ended, a user or role changed, a key
 * revoked. Every instance re-checks the live sockets of that tenant and closes the ones no longer allowed.
 * Also written in the commit itself (recordAccessChanges), for the instances Redis did not reach.
 */
export interface AccessSignal {
  /** The AccessChange row of the same signal: an instance acts on each once, from Redis or from the row. */
  id: string;
  tenantId: string;
  sessionIds?: string[];
  userIds?: string[];
  apiKeyIds?: string[];
  /** A role's permissions changed: any socket of the tenant may be affected. */
  everyone?: boolean;
}

const TOPIC = 'access-signals';

/** How far back an instance reads its sockets' tenants' changes: the row is written last in its transaction, so this need only cover the commit and a poll or two. */
export const ACCESS_CHANGE_WINDOW_SECONDS = 10;

/**
 * The signals of one committing transaction, as rows of access_change in that transaction; the tenant's
 * rows older than an hour go in the same statement, so the table stays as small as an hour of changes.
 */
export async function recordAccessChanges(em: EntityManager, tenantId: string, signals: readonly AccessSignal[]): Promise<void> {
  if (!signals.length) return;
  await em.execute(
    `with pruned as (delete from access_change where tenant_id = ? and recorded_at < clock_timestamp() - interval '1 hour')
     insert into access_change (id, tenant_id, signal) select (x->>'id')::uuid, ?, x from jsonb_array_elements(?::jsonb) x`,
    [tenantId, tenantId, JSON.stringify(signals)],
  );
}

/** The recent signals of these tenants, as written by recordAccessChanges (vigil_recent_access_changes). */
export async function recentAccessChanges(db: Database, tenantIds: readonly string[]): Promise<AccessSignal[]> {
  const rows = await db.prepared<{ signal: unknown }>(
    'vigil_recent_access_changes',
    'select signal from vigil_recent_access_changes($1::uuid[], $2)',
    [tenantIds, ACCESS_CHANGE_WINDOW_SECONDS],
  );
  return rows.map((row) => jsonOf<AccessSignal>(row.signal));
}

export function publishAccessSignal(bus: EventBus, signal: AccessSignal): void {
  bus.publish(TOPIC, signal);
}

export function onAccessSignal(bus: EventBus, listener: (signal: AccessSignal) => void): () => void {
  return bus.subscribe(TOPIC, (payload) => listener(payload as AccessSignal));
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { type AccessSignal, publishAccessSignal, recordAccessChanges } from './access/access-signals.ts';
import { publishAuditEvents } from './audit/feed.ts';
import { type AuditOrigin, JournalWriter } from './audit/journal.ts';
import type { Services } from './services.ts';

export interface Work {
  em: EntityManager;
  journal: JournalWriter;
  /** Queues a signal that access changed; sent only if the transaction commits. */
  signal(signal: Omit<AccessSignal, 'tenantId' | 'id'>): void;
}

/**
 * Runs one change and its audit events in a single transaction of one tenant; the events and access
 * signals are published only once the transaction has committed, and the signals are also written in it.
 */
export async function inTenantTransaction<T>(
  services: Services,
  tenantId: string,
  origin: AuditOrigin,
  work: (w: Work) => Promise<T>,
  em: EntityManager = services.db.forTenant(tenantId),
): Promise<T> {
  let journal: JournalWriter | undefined;
  const signals: AccessSignal[] = [];
  const result = await em.transactional(async (txEm) => {
    journal = new JournalWriter(txEm, tenantId, origin, services.clock);
    signals.length = 0;
    const outcome = await work({ em: txEm, journal, signal: (s) => signals.push({ ...s, tenantId, id: randomUUID() }) });
    await recordAccessChanges(txEm, tenantId, signals);
    return outcome;
  });
  if (journal) publishAuditEvents(services.bus, journal.recorded);
  for (const signal of signals) publishAccessSignal(services.bus, signal);
  return result;
}

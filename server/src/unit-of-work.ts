import { type IdempotencyClaim, claimKey } from './idempotency/idempotency.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { type AccessSignal, publishAccessSignal, recordAccessChanges } from './access/access-signals.ts';
import type { Viewer } from './access/viewer.ts';
import { publishAuditEvents } from './audit/feed.ts';
import { type AuditOrigin, JournalWriter, type RecordedEvent } from './audit/journal.ts';
import { type Context, auditOrigin, viewerOf } from './context.ts';
import { wakeNotifiers } from './notifications/wake.ts';
import type { Services } from './services.ts';

/**
 * What a rule works with: one transaction of one tenant, its journal, the caller it acts for, the
 * instant it began (one reading of the injected clock) and the services. Rules take `(work, input)`.
 */
export interface Work<V extends Viewer | null = Viewer | null> {
  em: EntityManager;
  journal: JournalWriter;
  /** Queues a signal that access changed; sent only if the transaction commits. */
  signal(signal: Omit<AccessSignal, 'tenantId' | 'id'>): void;
  /** The caller; null for the system (jobs, expiry) and for sign-in before a session exists. */
  viewer: V;
  now: Date;
  services: Services;
}

/** The work of a signed-in caller (a session or an API key): what the rules behind resolvers take. */
export type ViewerWork = Work<Viewer>;

export interface TenantTransaction<V extends Viewer | null> {
  tenantId: string;
  origin: AuditOrigin;
  viewer: V;
  /** The request's EntityManager, when the rule's reads must land in its identity map (see auditEvents). */
  em?: EntityManager;
}

/**
 * Runs one change and its audit events in a single transaction of one tenant; the events and access
 * signals are published only once the transaction has committed, and the signals are also written in it.
 */
export async function inTenantTransaction<T, V extends Viewer | null = null>(
  services: Services,
  { tenantId, origin, viewer, em = services.db.forTenant(tenantId) }: TenantTransaction<V>,
  rule: (work: Work<V>) => Promise<T>,
): Promise<T> {
  let journal: JournalWriter | undefined;
  const signals: AccessSignal[] = [];
  const now = services.clock.now();
  const result = await em.transactional(async (txEm) => {
    // Support reads under a grant and never writes: the database itself refuses (readOnlyTransaction).
    if (viewer?.kind === 'support') await txEm.execute('set transaction read only');
    journal = new JournalWriter(txEm, tenantId, origin, services.clock, 'vigil_append_audit', (seconds) => services.metrics?.journalAppend(seconds));
    signals.length = 0;
    const outcome = await rule({ em: txEm, journal, viewer, now, services, signal: (s) => signals.push({ ...s, tenantId, id: randomUUID() }) });
    await recordAccessChanges(txEm, tenantId, signals);
    return outcome;
  });
  publishCommitted(services, { events: journal?.recorded ?? [], signals });
  return result;
}

/**
 * The one publish path, once what was written has committed: the journal's live feed (and the notifiers'
 * wake-up), then the access signals. Never before the commit: a subscriber must not see an event a rollback
 * takes back.
 */
export function publishCommitted(
  services: Pick<Services, 'bus'> & Partial<Pick<Services, 'metrics' | 'alerts' | 'webhooks' | 'syslog'>>,
  committed: { events: readonly RecordedEvent[]; signals?: readonly AccessSignal[] },
): void {
  services.metrics?.journalled(committed.events);
  services.alerts?.inspect(committed.events);
  services.syslog?.send(committed.events);
  if (committed.events.length) services.webhooks?.wake();
  publishAuditEvents(services.bus, committed.events);
  wakeNotifiers(services.bus, committed.events);
  for (const signal of committed.signals ?? []) publishAccessSignal(services.bus, signal);
}

/** How a resolver (or a route) runs a rule: as its caller, in one transaction of the caller's tenant. */
export function asViewer<I, T>(
  ctx: Pick<Context, 'services' | 'meta' | 'viewer'> & { em?: EntityManager | null; idempotency?: IdempotencyClaim | null },
  rule: (work: ViewerWork, input: I) => Promise<T>,
  input: I,
  { requestEm = false }: { requestEm?: boolean } = {},
): Promise<T> {
  const viewer = viewerOf(ctx);
  const em = requestEm && ctx.em ? ctx.em : undefined;
  const claim = ctx.idempotency && !ctx.idempotency.claimed ? ctx.idempotency : null;
  const run = inTenantTransaction(ctx.services, { tenantId: viewer.tenantId, origin: auditOrigin(ctx), viewer, em }, async (work) => {
    if (claim) await claimKey(work.em, viewer.tenantId, claim, work.now);
    return rule(work, input);
  });
  if (!claim) return run;
  return run.then((result) => {
    claim.claimed = true;
    return result;
  });
}

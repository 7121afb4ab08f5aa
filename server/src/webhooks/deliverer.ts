import { randomUUID } from 'node:crypto';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { fromEntity } from '../audit/feed.ts';
import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { every } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { KeptAlive, type Outcome, RefusedDestination, post, succeeded, vetDestination } from './outbound.ts';
import { deliveryId, webhookBody } from './payload.ts';
import { headerSigner } from './signing.ts';
import { WebhookDelivery } from './webhook-delivery.entity.ts';
import { WebhookEndpoint } from './webhook-endpoint.entity.ts';

/** Seconds before each retry of a failed delivery: ten attempts over about three days, then the dead-letter list. */
export const RETRY_AFTER_SECONDS = [5, 60, 300, 1800, 7200, 21_600, 43_200, 86_400, 97_200] as const;
/** How long an instance holds an endpoint: two deliveries' time and a margin, renewed by each attempt it records. */
const leaseSeconds = (services: Services) => Math.ceil(services.config.webhooks.timeoutMs / 1000) * 2 + 5;
/** Events one lease delivers (ROUNDS of ROUND_SIZE) before it lets the endpoint go: other companies wait meanwhile. */
const ROUND_SIZE = 200;
const ROUNDS = 10;
/** Deliveries recorded together: fewer transactions, and at most this many sent again after a crash (or this long's worth). */
const FLUSH_EVERY = ROUND_SIZE;
const FLUSH_AFTER_MS = 1000;

/**
 * The deliverer: every tick, and at once when this instance commits an event, it asks vigil_webhooks_due
 * which companies have an endpoint behind its journal, leases each such endpoint, and delivers what follows its
 * cursor one event at a time, in seq order, moving the cursor in the transaction that records the delivery.
 * A crash between the POST and that transaction delivers the event again after the lease ends, with the same
 * `webhook-id`: at least once, never lost.
 */
export class WebhookDeliverer {
  private running: Promise<void> | null = null;
  private again = false;
  private started = false;
  private stopped = false;

  /** The services the deliverer is one of, given late: they hold it. */
  constructor(private readonly services: () => Services) {}

  /** A run now, or right after the current one; nothing before the background jobs start (tests run passes themselves). */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilQuiet().finally(() => (this.running = null));
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async runUntilQuiet(): Promise<void> {
    do {
      this.again = false;
      await deliverDueWebhooks(this.services()).catch((error: unknown) => this.services().log.error({ err: error }, 'webhook deliveries failed'));
    } while (this.again && !this.stopped);
  }


  /** Ticks, and wakes on this instance's commits, until stopped. */
  start(onError: (error: unknown) => void): () => Promise<void> {
    this.started = true;
    const stopTicks = every(this.services().config.webhooks.intervalSeconds, () => (this.wake(), this.idle()), onError);
    return async () => {
      stopTicks();
      await this.stop();
    };
  }
}

/** One pass over every company with something to deliver (tests call it directly, on their clock). */
export async function deliverDueWebhooks(services: Services): Promise<void> {
  const now = services.clock.now();
  const rows = await services.db.unscoped().execute<Array<{ tenant: string }>>('select vigil_webhooks_due(?) as tenant', [now]);
  services.metrics.webhookEndpointsDue(rows.length);
  for (const { tenant } of rows) {
    const due = await services.db.forTenant(tenant).find(WebhookEndpoint, { state: 'active', $and: [{ $or: [{ nextAttemptAt: null }, { nextAttemptAt: { $lte: now } }] }, { $or: [{ leasedUntil: null }, { leasedUntil: { $lte: now } }] }] }, { fields: ['id'] });
    for (const { id } of due) await deliverEndpoint(services, tenant, id);
  }
}

async function deliverEndpoint(services: Services, tenantId: string, endpointId: string): Promise<void> {
  const leaseId = randomUUID();
  const now = services.clock.now();
  const leased = await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, ({ em }) =>
    em.nativeUpdate(WebhookEndpoint, { id: endpointId, state: 'active', $or: [{ leasedUntil: null }, { leasedUntil: { $lte: now } }] }, { leaseId, leasedUntil: new Date(now.getTime() + leaseSeconds(services) * 1000) }),
  );
  if (!leased) return;
  // One kept-alive connection for the run: deliveries go one at a time anyway.
  const connection = new KeptAlive();
  try {
    for (let round = 0; round < ROUNDS; round++) if (!(await deliverRound(services, tenantId, endpointId, leaseId, connection))) break;
  } finally {
    connection.close();
    await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, ({ em }) => em.nativeUpdate(WebhookEndpoint, { id: endpointId, leaseId }, { leaseId: null, leasedUntil: null }));
  }
}

/**
 * The events after the cursor, up to a round's worth, POSTed one after another in seq order. Successes are
 * recorded in batches (the cursor moves with them, in one transaction): a crash before a batch is recorded
 * delivers those events again, with the same ids. The first failure is recorded at once and ends the round.
 * True when there may be more to deliver now.
 */
async function deliverRound(services: Services, tenantId: string, endpointId: string, leaseId: string, connection: KeptAlive): Promise<boolean> {
  const em = services.db.forTenant(tenantId);
  const endpoint = await em.findOne(WebhookEndpoint, { id: endpointId, leaseId });
  const now = services.clock.now();
  if (!endpoint || endpoint.state !== 'active' || (endpoint.nextAttemptAt && endpoint.nextAttemptAt > now)) return false;
  // The head first: what the round reads is up to it, so moving the cursor to it skips nothing committed meanwhile.
  const head = (await em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] }))?.seq ?? 0;
  const wanted = endpoint.actions.length ? { action: { $in: endpoint.actions } } : {};
  const events = await em.find(AuditEvent, { seq: { $gt: endpoint.lastSeq, $lte: head }, ...wanted }, { orderBy: { seq: 'asc' }, limit: ROUND_SIZE });
  const through = events.length < ROUND_SIZE ? head : null;
  if (!events.length) {
    if (head > endpoint.lastSeq) await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, ({ em: tx }) => tx.nativeUpdate(WebhookEndpoint, { id: endpoint.id, leaseId }, { lastSeq: head }));
    return false;
  }
  const send = await sender(services, endpoint, connection);
  const prepare = (event: AuditEvent) => {
    const record = fromEntity(event);
    const attempted = { id: deliveryId(endpoint.id, record.id), seq: record.seq, action: record.action };
    return { attempted, request: send.prepare(attempted.id, webhookBody(endpoint.format, record)) };
  };
  // Recording runs behind the sending (each batch after the one before): a lost lease shows at the next wait.
  let recorded: Promise<boolean> = Promise.resolve(true);
  const record = (batch: Attempted[], priorAttempts: number, through: number | null = null) => {
    const previous = recorded;
    recorded = previous.then((ok) => ok && recordDelivered(services, tenantId, { endpointId, leaseId, priorAttempts }, batch, through));
  };
  let batch: Attempted[] = [];
  let priorAttempts = endpoint.attempts;
  let batchStarted = performance.now();
  let next = prepare(events[0]);
  for (let i = 0; i < events.length; i++) {
    const { attempted, request } = next;
    const sending = send.post(request);
    // The next body and signatures are made while this one travels.
    if (i + 1 < events.length) next = prepare(events[i + 1]);
    const outcome = await sending;
    if (!succeeded(outcome)) {
      record(batch, priorAttempts);
      if (!(await recorded)) return false;
      await recordFailure(services, tenantId, { ...attempted, endpointId, leaseId }, outcome);
      return false;
    }
    batch.push(attempted);
    if (batch.length >= FLUSH_EVERY || performance.now() - batchStarted > FLUSH_AFTER_MS) {
      record(batch, priorAttempts);
      priorAttempts = 0;
      batch = [];
      batchStarted = performance.now();
    }
  }
  record(batch, priorAttempts, through);
  return (await recorded) && through === null;
}

interface Sender {
  /** The body with its Standard Webhooks headers, signed now. */
  prepare(id: string, body: string): { headers: Record<string, string>; body: string } | null;
  post(request: { headers: Record<string, string>; body: string } | null): Promise<Outcome>;
}

/** POSTs to the endpoint as it is now: its address vetted and its keys decrypted once for the round. */
async function sender(services: Services, endpoint: WebhookEndpoint, connection?: KeptAlive): Promise<Sender> {
  const { webhooks, production } = services.config;
  let target: Awaited<ReturnType<typeof vetDestination>>;
  try {
    target = await vetDestination(endpoint.url, { allowPrivate: webhooks.allowPrivateNetworks, requireHttps: production });
  } catch (error) {
    if (error instanceof RefusedDestination) return { prepare: () => null, post: async () => ({ status: null, error: error.message }) };
    throw error;
  }
  const signed = headerSigner({ secret: services.keys.decrypt(endpoint.secretEnc), signingKeyPem: services.keys.decrypt(endpoint.signingKeyEnc) });
  return {
    prepare: (id, body) => ({ headers: signed(id, services.clock.now(), body), body }),
    post: (request) => post(target, request!.headers, request!.body, webhooks.timeoutMs, connection?.agent(target.url)),
  };
}

/** One POST, to the address vetted now (a host that moved to a private address is refused at delivery too). */
export async function attempt(services: Services, endpoint: WebhookEndpoint, id: string, body: string): Promise<Outcome> {
  const send = await sender(services, endpoint);
  return send.post(send.prepare(id, body));
}

interface Attempted {
  id: string;
  seq: number;
  action: string;
}

interface Held {
  endpointId: string;
  leaseId: string;
  /** Failed attempts at the first of the batch before this one succeeded. */
  priorAttempts: number;
}

/**
 * Deliveries that succeeded, and the cursor past them (to `through` when the round read everything up to it:
 * what the endpoint does not receive is not due again), in one transaction under the lease; false when the lease was lost.
 */
async function recordDelivered(services: Services, tenantId: string, held: Held, batch: Attempted[], through: number | null = null): Promise<boolean> {
  if (!batch.length) return true;
  return inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em, now }) => {
    const moved = await em.nativeUpdate(WebhookEndpoint, { id: held.endpointId, leaseId: held.leaseId }, { lastSeq: through ?? batch.at(-1)!.seq, attempts: 0, nextAttemptAt: null, leasedUntil: new Date(now.getTime() + leaseSeconds(services) * 1000) });
    if (!moved) return false;
    const rows = batch.map((attempted, i) => ({
      ...attempted,
      tenant: tenantId,
      endpoint: held.endpointId,
      state: 'delivered' as const,
      attempts: i === 0 ? held.priorAttempts + 1 : 1,
      lastStatus: 200,
      lastError: null,
      lastAttemptAt: now,
      deliveredAt: now,
    }));
    await em.upsertMany(WebhookDelivery, rows);
    for (let i = 0; i < batch.length; i++) services.metrics.webhookDelivery('delivered');
    return true;
  });
}

/**
 * A failed attempt and what it does to the endpoint, in one transaction under the lease: 410 Gone disables the
 * endpoint at once (its owner is told); another failure waits for the next retry, and the tenth dead-letters
 * the event, moves the cursor past it and disables the endpoint.
 */
async function recordFailure(services: Services, tenantId: string, attempted: Attempted & { endpointId: string; leaseId: string }, outcome: Outcome): Promise<void> {
  const gone = outcome.status === 410;
  await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em, journal, now }) => {
    const endpoint = await em.findOne(WebhookEndpoint, { id: attempted.endpointId, leaseId: attempted.leaseId });
    if (!endpoint) return;
    const attempts = endpoint.attempts + 1;
    const dead = !gone && attempts > RETRY_AFTER_SECONDS.length;
    const facts = { state: dead ? 'dead' : 'pending', attempts, lastStatus: outcome.status, lastError: outcome.error, lastAttemptAt: now, deliveredAt: null } as const;
    await em.upsert(WebhookDelivery, { id: attempted.id, tenant: tenantId, endpoint: endpoint.id, seq: attempted.seq, action: attempted.action, ...facts });
    services.metrics.webhookDelivery(gone ? 'gone' : dead ? 'dead' : outcome.status === null ? 'unreachable' : 'failed');
    endpoint.leasedUntil = new Date(now.getTime() + leaseSeconds(services) * 1000);
    if (dead) Object.assign(endpoint, { lastSeq: attempted.seq, attempts: 0, nextAttemptAt: null });
    else if (!gone) Object.assign(endpoint, { attempts, nextAttemptAt: new Date(now.getTime() + RETRY_AFTER_SECONDS[attempts - 1] * 1000) });
    if (gone || dead) {
      const reason = gone ? 'The receiver answered 410 Gone: it asked for no more deliveries.' : `Ten attempts over three days failed; the last: ${outcome.status ?? outcome.error}. The event is in the dead-letter list.`;
      Object.assign(endpoint, { state: 'disabled', disabledReason: reason });
      await journal.record({ action: 'webhook.endpoint_disabled', outcome: 'failure', target: { type: 'webhook_endpoint', id: endpoint.id }, details: { reason, seq: attempted.seq, deliveryId: attempted.id, status: outcome.status } });
    }
    await em.flush();
  });
}

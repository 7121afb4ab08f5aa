import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { CriticalOperation } from '../critical-ops/critical-operation.entity.ts';
import { every } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { isUuid } from '../tokens.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { type Mail, type Mailer, createMailer, failureIsPermanent, mailDomain } from './mailer.ts';
import { NotificationCursor } from './notification-cursor.entity.ts';
import { type NoticeFacts, composeNotice } from './notices.ts';
import { NOTIFICATIONS_TOPIC, NOTIFYING_ACTIONS, notifiesOncePerGrant } from './wake.ts';

/** A company is leased this long for one round of mail, renewed by each mail sent (SMTP's waits are shorter). */
const LEASE_SECONDS = 120;
/** Events taken per lease; a longer backlog is taken in further rounds at once. */
const BATCH = 25;
/** A mail the server refuses for good is tried this often, then given up (and logged). */
const PERMANENT_ATTEMPTS = 5;
const RETRY_FIRST_SECONDS = 5;
const RETRY_MAX_SECONDS = 300;

/** Who is told: the company's active owners and administrators, the built-in roles. */
const RECIPIENT_ROLES = ['owner', 'administrator'];

type CursorChange = Partial<Pick<NotificationCursor, 'lastSeq' | 'failures' | 'retryAt' | 'leaseId' | 'leasedUntil' | 'lastMailedAt'>>;

interface Planned {
  seq: number;
  eventId: string;
  /** Null for an event that is not mailed (another access under a grant already announced, nobody to tell). */
  mail: Mail | null;
}

interface Round {
  leaseId: string;
  lastSeq: number;
  failures: number;
  planned: Planned[];
  /** How far the cursor may go once every planned mail is out: the journal's head when the batch reached it. */
  through: number;
  more: boolean;
}

/**
 * Mails the owners and administrators of each company the events its journal marks `notify`, from the
 * journal itself: nothing is lost (a company's cursor moves past a mail only in the transaction after the SMTP
 * server took it, and a failed mail is tried again), nothing is sent twice by two instances (a company is
 * claimed under FOR UPDATE SKIP LOCKED and leased; every step checks the lease). No transaction stays open
 * while SMTP talks. Mail bodies are never logged; a failure is logged with its event's id.
 */
export class Notifier {
  readonly #queue = new Set<string>();
  #draining: Promise<void> | null = null;
  #stopped = false;
  readonly #domain: string;

  constructor(
    private readonly services: Services,
    private readonly mailer: Mailer,
    from: string,
  ) {
    this.#domain = mailDomain(from);
  }

  /** Every company with mail due (the locator), each then mailed in turn. */
  async runDue(): Promise<void> {
    const due = await this.services.db.prepared<{ id: string }>(
      'vigil_notifications_due',
      'select vigil_notifications_due($1::text[], $2) as id',
      [NOTIFYING_ACTIONS, this.services.clock.now()],
    );
    for (const { id } of due) this.#queue.add(id);
    await this.#drain();
  }

  /** A company published a notifying event: mail it now rather than at the next tick. */
  wake(tenantId: string): void {
    if (this.#stopped) return;
    this.#queue.add(tenantId);
    setImmediate(() => void this.#drain());
  }

  /** No new round starts; resolves once the one under way (if any) is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.clear();
    await this.#draining;
  }

  /** One company's mail, round after round until none is due: the number of mails sent. */
  async deliver(tenantId: string): Promise<number> {
    let sent = 0;
    while (!this.#stopped) {
      const round = await this.#claim(tenantId);
      if (!round) break;
      const outcome = await this.#send(tenantId, round);
      sent += outcome.sent;
      if (!outcome.more) break;
    }
    return sent;
  }

  /** One worker per instance goes through the queue, company after company. */
  #drain(): Promise<void> {
    this.#draining ??= this.#work().finally(() => {
      this.#draining = null;
      if (this.#queue.size && !this.#stopped) void this.#drain();
    });
    return this.#draining;
  }

  async #work(): Promise<void> {
    while (this.#queue.size && !this.#stopped) {
      const [tenantId] = this.#queue;
      this.#queue.delete(tenantId);
      await this.deliver(tenantId).catch((error: unknown) => this.services.log.error({ err: error, tenantId }, 'notifications of a company failed; retried at the next tick'));
    }
  }

  /** Claims the company's cursor and plans its next mails, in one short transaction of the company. */
  #claim(tenantId: string): Promise<Round | null> {
    return inTenantTransaction(this.services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em, now }) => {
      await em.createQueryBuilder(NotificationCursor).insert({ tenant: tenantId, lastSeq: 0 }).onConflict('tenant').ignore().execute();
      const cursor = await em.findOne(NotificationCursor, { tenant: tenantId }, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      if (!cursor || (cursor.leasedUntil && cursor.leasedUntil > now) || (cursor.retryAt && cursor.retryAt > now)) return null;
      // The head first: every event up to it has committed (seq is taken under the journal's lock, in commit order).
      const head = (await em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] }))?.seq ?? 0;
      const events = await em.find(AuditEvent, { seq: { $gt: cursor.lastSeq, $lte: head }, action: { $in: [...NOTIFYING_ACTIONS] } }, { orderBy: { seq: 'asc' }, limit: BATCH });
      const more = events.length === BATCH;
      const through = more ? events[events.length - 1].seq : head;
      if (!events.length) {
        if (through > cursor.lastSeq) cursor.lastSeq = through;
        await em.flush();
        return null;
      }
      const planned = await this.#plan(em, tenantId, events);
      cursor.leaseId = randomUUID();
      cursor.leasedUntil = leaseEnd(now);
      await em.flush();
      return { leaseId: cursor.leaseId, lastSeq: cursor.lastSeq, failures: cursor.failures, planned, through, more };
    });
  }

  async #plan(em: EntityManager, tenantId: string, events: AuditEvent[]): Promise<Planned[]> {
    const company = await em.findOneOrFail(Tenant, tenantId, { fields: ['name'] });
    const recipients = await em.find(User, { disabledAt: null, role: { builtIn: { $in: RECIPIENT_ROLES } } }, { fields: ['email', 'displayName'], orderBy: { createdAt: 'asc' } });
    const operationIds = [...new Set(events.filter((e) => e.targetType === 'critical_operation' && e.targetId).map((e) => e.targetId!))];
    const operations = new Map((operationIds.length ? await em.find(CriticalOperation, { id: { $in: operationIds } }) : []).map((op) => [op.id, op]));
    const newOwnerOf = (op: CriticalOperation | undefined) => (typeof op?.params.newOwnerId === 'string' ? op.params.newOwnerId : null);
    const named = [
      ...events.flatMap((e) => [e.actorType === 'user' || e.actorType === 'api_key' ? e.actorId : null, e.targetType === 'user' ? e.targetId : null]),
      ...[...operations.values()].map(newOwnerOf),
    ].filter((id): id is string => typeof id === 'string' && isUuid(id));
    const people = new Map<string, string>();
    if (named.length) for (const user of await em.find(User, { id: { $in: [...new Set(named)] } }, { fields: ['displayName'] })) people.set(user.id, user.displayName);
    const announcedGrants = new Set<string>();
    const planned: Planned[] = [];
    for (const event of events) {
      const mailed = recipients.length > 0 && (!notifiesOncePerGrant(event.action) || (await this.#firstOfItsGrant(em, event, announcedGrants)));
      if (!recipients.length) this.services.log.warn({ eventId: event.id }, 'a notifying event has no active owner or administrator to mail');
      const operation = event.targetId ? operations.get(event.targetId) : undefined;
      const facts: NoticeFacts = {
        company: company.name,
        event,
        actor: actorName(event, people),
        operation: operation
          ? { kind: operation.kind, state: operation.state, executesAt: operation.executesAt, acceptBy: operation.acceptBy, newOwner: people.get(newOwnerOf(operation) ?? '') ?? null }
          : null,
        lockedDownUser: event.targetType === 'user' && event.targetId ? (people.get(event.targetId) ?? null) : null,
      };
      const mail = mailed
        ? { to: recipients.map((r) => ({ name: r.displayName, address: r.email })), messageId: `<notice.${event.id}@${this.#domain}>`, ...composeNotice(facts) }
        : null;
      planned.push({ seq: event.seq, eventId: event.id, mail });
    }
    return planned;
  }

  /** A support access is mailed once per grant: when no access under the same grant came before it. */
  async #firstOfItsGrant(em: EntityManager, event: AuditEvent, announced: Set<string>): Promise<boolean> {
    const grantId = event.details.grantId;
    if (typeof grantId !== 'string' || announced.has(grantId)) return false;
    announced.add(grantId);
    const earlier = await em.findOne(AuditEvent, { action: event.action, seq: { $lt: event.seq }, details: { grantId } }, { fields: ['id'], orderBy: { seq: 'desc' } });
    return earlier === null;
  }

  /** Sends a round's mails in order; the cursor moves past each one the server took, in its own transaction. */
  async #send(tenantId: string, round: Round): Promise<{ sent: number; more: boolean }> {
    let sent = 0;
    let handled = round.lastSeq;
    let failures = round.failures;
    for (const { seq, eventId, mail } of round.planned) {
      if (this.#stopped) {
        // Hand the company over at once rather than when the lease runs out.
        await this.#update(tenantId, round.leaseId, { lastSeq: handled, leaseId: null, leasedUntil: null });
        return { sent, more: false };
      }
      if (mail) {
        const now = () => this.services.clock.now();
        let change: CursorChange = { lastSeq: seq, failures: 0, retryAt: null, leasedUntil: leaseEnd(now()) };
        try {
          const { rejected } = await this.mailer.send(mail);
          if (rejected) this.services.log.warn({ eventId, rejected }, 'the SMTP server refused some recipients of a notification');
          sent += 1;
          change = { ...change, lastMailedAt: now() };
        } catch (error) {
          failures += 1;
          if (!failureIsPermanent(error) || failures < PERMANENT_ATTEMPTS) {
            const { code, responseCode } = error as { code?: string; responseCode?: number };
            this.services.log.warn({ eventId, code, responseCode, attempt: failures }, 'a notification mail failed; it is tried again later');
            await this.#update(tenantId, round.leaseId, { lastSeq: handled, failures, retryAt: retryAfter(now(), failures), leaseId: null, leasedUntil: null });
            return { sent, more: false };
          }
          this.services.log.error({ eventId, attempts: failures }, 'a notification mail was refused for good; given up after bounded retries');
        }
        failures = 0;
        if (!(await this.#update(tenantId, round.leaseId, change))) return { sent, more: false };
      }
      handled = seq;
    }
    await this.#update(tenantId, round.leaseId, { lastSeq: Math.max(handled, round.through), leaseId: null, leasedUntil: null });
    return { sent, more: round.more };
  }

  /** A change of the cursor under this round's lease; false (and logged) when the lease was lost meanwhile. */
  async #update(tenantId: string, leaseId: string, change: CursorChange): Promise<boolean> {
    const updated = await inTenantTransaction(this.services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, ({ em }) =>
      em.nativeUpdate(NotificationCursor, { tenant: tenantId, leaseId }, change),
    );
    if (!updated) this.services.log.warn({ tenantId }, "a company's notification lease ran out during its mail; another instance goes on from the last mail recorded");
    return updated === 1;
  }
}

const leaseEnd = (now: Date) => new Date(now.getTime() + LEASE_SECONDS * 1000);

const retryAfter = (now: Date, failures: number) => new Date(now.getTime() + Math.min(RETRY_FIRST_SECONDS * 2 ** (failures - 1), RETRY_MAX_SECONDS) * 1000);

function actorName(event: AuditEvent, people: ReadonlyMap<string, string>): string {
  const person = event.actorId ? people.get(event.actorId) : undefined;
  switch (event.actorType) {
    case 'user':
      return person ?? 'a user of the company';
    case 'api_key':
      return `${person ?? 'a user of the company'}, through an API key`;
    case 'operator':
      return "a platform operator (Vigil's support)";
    case 'anonymous':
      return 'someone not signed in';
    default:
      return 'Vigil';
  }
}

/**
 * The notifications job of one instance: every notificationsIntervalSeconds, and at once when a notifying
 * event is published on the bus (by this instance or, through Redis, another). Without SMTP_URL there is no
 * mail, which is said once here; the events are in the journal and on the dashboard all the same.
 * Returns what stops it (resolving once the mail under way is done).
 */
export function startNotifications(services: Services, onError: (error: unknown) => void): () => Promise<void> {
  const { config, log, bus } = services;
  if (!config.smtpUrl || !config.mailFrom) {
    log.info({ mail: 'off' }, 'SMTP_URL is not set: no e-mail notifications; owners and administrators see these events in the journal and on the dashboard');
    return async () => {};
  }
  const mailer = createMailer(config.smtpUrl, config.mailFrom);
  const notifier = new Notifier(services, mailer, config.mailFrom);
  const stopTicks = every(config.notificationsIntervalSeconds, () => notifier.runDue(), onError);
  const unsubscribe = bus.subscribe(NOTIFICATIONS_TOPIC, (payload) => {
    const tenantId = (payload as { tenantId?: unknown } | null)?.tenantId;
    if (typeof tenantId === 'string' && isUuid(tenantId)) notifier.wake(tenantId);
  });
  log.info({ mail: 'on', smtpHost: new URL(config.smtpUrl).hostname }, 'notifications are mailed to owners and administrators');
  return async () => {
    stopTicks();
    unsubscribe();
    await notifier.stop();
    mailer.close();
  };
}

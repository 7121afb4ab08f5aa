import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { type ActorType, AuditEvent, type AuditOutcome } from './audit-event.entity.ts';
import { type ChainedFields, GENESIS_HASH, chainHash } from './chain.ts';

/** Who acts and from where; filled from the request so callers only say what happened. */
export interface AuditOrigin {
  actorType: ActorType;
  /** The user acted on; for an API key, its creator. */
  actorId: string | null;
  /** Set when the actor used an API key; recorded in the event's details. */
  apiKeyId?: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  action: string;
  outcome?: AuditOutcome;
  target?: { type: string; id: string } | null;
  /** Never a secret: no password, token, key or code. */
  details?: Record<string, unknown>;
  /** Overrides the origin's actor, e.g. the user a failed sign-in was for. */
  actor?: { type: ActorType; id: string | null };
}

export type RecordedEvent = ChainedFields & { hash: string; prevHash: string };

interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Appends to one tenant's journal inside the caller's transaction. The per-tenant advisory lock
 * makes seq gap-free and keeps commits in seq order, so live readers never see seq n+1 before n.
 */
export class JournalWriter {
  readonly recorded: RecordedEvent[] = [];
  #head: ChainHead | null = null;

  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
    private readonly origin: AuditOrigin,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<RecordedEvent> {
    const head = await this.#lockedHead();
    const fields: ChainedFields = {
      id: randomUUID(),
      tenantId: this.tenantId,
      seq: head.seq + 1,
      occurredAt: this.clock.now(),
      action: entry.action,
      outcome: entry.outcome ?? 'success',
      actorType: entry.actor?.type ?? this.origin.actorType,
      actorId: entry.actor ? entry.actor.id : this.origin.actorId,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      ip: this.origin.ip,
      userAgent: this.origin.userAgent,
      sessionId: this.origin.sessionId,
      details: jsonSafe(this.origin.apiKeyId && !entry.actor ? { ...entry.details, apiKeyId: this.origin.apiKeyId } : (entry.details ?? {})),
    };
    const event = { ...fields, prevHash: head.hash, hash: chainHash(head.hash, fields) };
    const { tenantId, ...columns } = event;
    await this.em.insert(AuditEvent, { ...columns, tenant: tenantId });
    this.#head = { seq: event.seq, hash: event.hash };
    this.recorded.push(event);
    return event;
  }

  async #lockedHead(): Promise<ChainHead> {
    if (this.#head) return this.#head;
    await this.em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`vigil.audit:${this.tenantId}`]);
    const last = await this.em.findOne(
      AuditEvent,
      { tenant: this.tenantId },
      { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] },
    );
    this.#head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    return this.#head;
  }
}

/** What jsonb will give back (dates as strings, no undefined): the hash must cover exactly that. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
}

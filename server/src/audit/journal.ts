import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { ActorType, AuditOutcome } from './audit-event.entity.ts';
import { type ChainedFields, canonicalAroundSeq } from './chain.ts';

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

/**
 * Appends to one tenant's journal inside the caller's transaction, one statement per entry: the
 * database function takes the per-tenant advisory lock, which makes seq gap-free and keeps commits in
 * seq order (live readers never see seq n+1 before n), and computes the chain hash.
 */
export class JournalWriter {
  readonly recorded: RecordedEvent[] = [];

  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
    private readonly origin: AuditOrigin,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<RecordedEvent> {
    const fields: Omit<ChainedFields, 'seq'> = {
      id: randomUUID(),
      tenantId: this.tenantId,
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
    const { prefix, suffix } = canonicalAroundSeq(fields);
    const [appended] = await this.em.execute<Array<{ seq: string | number; prev_hash: string; hash: string }>>(
      'select seq, prev_hash, hash from vigil_append_audit(?, ?, ?, ?::jsonb)',
      [this.tenantId, prefix, suffix, JSON.stringify({ ...fields, occurredAt: fields.occurredAt.toISOString() })],
    );
    const event: RecordedEvent = { ...fields, seq: Number(appended.seq), prevHash: appended.prev_hash, hash: appended.hash };
    this.recorded.push(event);
    return event;
  }
}

/** What jsonb will give back (dates as strings, no undefined): the hash must cover exactly that. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { PLATFORM_TENANT_ID as PLATFORM_TENANT } from '../db/tenancy.ts';
import type { AuditAction } from './actions.ts';
import type { ActorType, AuditOutcome } from './audit-event.entity.ts';
import { type ChainedFields, canonicalAroundSeq } from './chain.ts';

/** Who acts and from where; filled from the request so callers only say what happened. */
export interface AuditOrigin {
  actorType: ActorType;
  /** The user acted on; for an API key, its creator. */
  actorId: string | null;
  /** Set when the actor used an API key; recorded in the event's details. */
  apiKeyId?: string | null;
  /** The mutation's Idempotency-Key, recorded in the event's details: a retry is seen to be one. */
  idempotencyKey?: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** Vigil itself acting (a job, an expiry noticed): no person, no address. */
export const SYSTEM_ORIGIN: AuditOrigin = { actorType: 'system', actorId: null, sessionId: null, ip: null, userAgent: null };

export interface AuditEntry {
  action: AuditAction;
  outcome?: AuditOutcome;
  target?: { type: string; id: string } | null;
  /** Never a secret: no password, token, key or code. */
  details?: Record<string, unknown>;
  /** Overrides the origin's actor, e.g. the user a failed sign-in was for. */
  actor?: { type: ActorType; id: string | null };
}

export type RecordedEvent = ChainedFields & { hash: string; prevHash: string };

/** An entry with everything but its place in the chain, which only the database assigns. */
export interface PreparedEntry {
  fields: Omit<ChainedFields, 'seq'>;
  /** The canonical JSON around the seq (see canonicalAroundSeq). */
  prefix: string;
  suffix: string;
}

/** A row vigil_append_audit returns, one per entry. */
export interface AppendedRow {
  id: string;
  seq: string | number;
  prev_hash: string;
  hash: string;
}

/** An entry as vigil_append_audit takes it, in the jsonb list of its second argument. */
export function appendArgument(entry: PreparedEntry) {
  return { prefix: entry.prefix, suffix: entry.suffix, event: { ...entry.fields, occurredAt: entry.fields.occurredAt.toISOString() } };
}

export function appendedEvent(entry: PreparedEntry, appended: AppendedRow): RecordedEvent {
  return { ...entry.fields, seq: Number(appended.seq), prevHash: appended.prev_hash, hash: appended.hash };
}

/**
 * Appends to one tenant's journal inside the caller's transaction through vigil_append_audit, the one way
 * in (a sign-in's vigil_open_session calls it too): it takes the per-tenant advisory lock, which makes seq
 * gap-free and keeps commits in seq order (live readers never see seq n+1 before n), and links the chain.
 * What is recorded is published by the unit of work once the transaction commits.
 */
export class JournalWriter {
  readonly recorded: RecordedEvent[] = [];

  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
    /** Who acts, for statements that prepare entries of their own (a critical operation's two journals). */
    readonly origin: AuditOrigin,
    private readonly clock: Clock,
    /** The operators' transactions append through their own door to the platform journal (platform/). */
    private readonly door: 'vigil_append_audit' | 'vigil_append_operator_audit' = 'vigil_append_audit',
    /** Told how long each append took, the wait for the journal's lock included (the metrics). */
    private readonly timed: (seconds: number) => void = () => {},
  ) {}

  async record(entry: AuditEntry): Promise<RecordedEvent> {
    const prepared = prepareEntry(this.tenantId, this.origin, this.clock.now(), entry);
    const started = performance.now();
    const [appended] = await this.em.execute<AppendedRow[]>(`select id, seq, prev_hash, hash from ${this.door}(?, ?::jsonb)`, [
      this.tenantId,
      JSON.stringify([appendArgument(prepared)]),
    ]);
    this.timed((performance.now() - started) / 1000);
    return this.adopt(appendedEvent(prepared, appended));
  }

  /** An event appended in this transaction by another statement: published with the others on commit. */
  adopt(event: RecordedEvent): RecordedEvent {
    this.recorded.push(event);
    return event;
  }
}

/**
 * One step that a single SQL function journals in a company's journal and the platform journal (a critical
 * operation's transition, support's sessions and break-glass): the argument it takes, and, once it returned
 * both appended rows, their adoption by the caller's writer, to be published when the transaction commits.
 */
export function bothJournals(tenantId: string, origin: AuditOrigin, now: Date, entry: AuditEntry) {
  const forTenant = prepareEntry(tenantId, origin, now, entry);
  const forPlatform = prepareEntry(PLATFORM_TENANT, origin, now, { ...entry, details: { ...entry.details, tenantId } });
  return {
    argument: { tenant: [appendArgument(forTenant)], platform: [appendArgument(forPlatform)] },
    adoptInto(journal: JournalWriter, appended: { tenant: AppendedRow[]; platform: AppendedRow[] }): void {
      journal.adopt(appendedEvent(forTenant, appended.tenant[0]));
      journal.adopt(appendedEvent(forPlatform, appended.platform[0]));
    },
  };
}

export function prepareEntry(tenantId: string, origin: AuditOrigin, now: Date, entry: AuditEntry): PreparedEntry {
  const fields: Omit<ChainedFields, 'seq'> = {
    id: randomUUID(),
    tenantId,
    occurredAt: now,
    action: entry.action,
    outcome: entry.outcome ?? 'success',
    actorType: entry.actor?.type ?? origin.actorType,
    actorId: entry.actor ? entry.actor.id : origin.actorId,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    ip: storableText(origin.ip),
    userAgent: storableText(origin.userAgent),
    sessionId: origin.sessionId,
    details: jsonSafe({
      ...(entry.details ?? {}),
      ...(origin.apiKeyId && !entry.actor ? { apiKeyId: origin.apiKeyId } : {}),
      ...(origin.idempotencyKey ? { idempotencyKey: origin.idempotencyKey } : {}),
    }),
  };
  return { fields, ...canonicalAroundSeq(fields) };
}

/**
 * What jsonb will give back (dates as strings, no undefined, every string storable): the hash must cover
 * exactly that. A journal write never fails because of what somebody typed.
 */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details), (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value)) as Record<string, unknown>;
}

/** Longer values are cut: the journal records what was attempted, not a megabyte of it. */
const MAX_TEXT_LENGTH = 1024;

/**
 * A string PostgreSQL text and jsonb accept and RFC 8785 canonicalises the same way after a round trip:
 * NUL and lone surrogates become U+FFFD (jsonb refuses both), and an overlong one is cut with an ellipsis.
 */
export function storableText<T extends string | null>(value: T): T {
  if (value === null) return value;
  const cleaned = value.toWellFormed().replaceAll('\u0000', '\uFFFD');
  return (cleaned.length > MAX_TEXT_LENGTH ? `${cleaned.slice(0, MAX_TEXT_LENGTH).toWellFormed()}…` : cleaned) as T;
}

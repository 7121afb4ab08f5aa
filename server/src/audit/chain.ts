import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { ActorType, AuditOutcome } from './audit-event.entity.ts';

/** The previous hash of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Exactly the fields the chain covers; the hash columns themselves are not part of it. */
export interface ChainedFields {
  id: string;
  tenantId: string;
  seq: number;
  occurredAt: Date;
  action: string;
  outcome: AuditOutcome;
  actorType: ActorType;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
  details: Record<string, unknown>;
}

/** hash = SHA-256(previousHash ‖ RFC 8785 canonical JSON of the event). */
export function chainHash(previousHash: string, event: ChainedFields): string {
  const canonical = canonicalize({ ...event, occurredAt: event.occurredAt.toISOString() });
  return createHash('sha256').update(previousHash, 'utf8').update(canonical ?? '', 'utf8').digest('hex');
}

/** A number no real seq takes, marking where the database writes the seq into the canonical JSON. */
const SEQ_PLACEHOLDER = Number.MIN_SAFE_INTEGER;

/**
 * The canonical JSON of an event whose seq is not known yet, cut where the seq goes. The top-level "seq"
 * is the last occurrence: only string-valued keys sort after it, and strings cannot contain it unescaped.
 */
export function canonicalAroundSeq(event: Omit<ChainedFields, 'seq'>): { prefix: string; suffix: string } {
  const canonical = canonicalize({ ...event, seq: SEQ_PLACEHOLDER, occurredAt: event.occurredAt.toISOString() }) ?? '';
  const marker = `"seq":${SEQ_PLACEHOLDER}`;
  const at = canonical.lastIndexOf(marker);
  return { prefix: canonical.slice(0, at + '"seq":'.length), suffix: canonical.slice(at + marker.length) };
}

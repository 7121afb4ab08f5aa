import canonicalize from 'canonicalize';
import type { ActorType, AuditOutcome } from './audit-event.entity.ts';

/**
 * The journal's chain: hash = SHA-256(previous hash ‖ RFC 8785 canonical JSON of the event), computed by the
 * database function vigil_chain_hash alone (appending and verifying); this module writes the JSON it hashes.
 */

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

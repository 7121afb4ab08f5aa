import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { ChainedFields } from '../../server/src/audit/chain.ts';

/**
 * The chain's definition computed independently of Vigil (as a customer's verifier, or an attacker who
 * holds the database but not the checkpoint key, would): SHA-256(previous hash ‖ RFC 8785 canonical JSON).
 */
export function referenceChainHash(previousHash: string, event: ChainedFields): string {
  const canonical = canonicalize({ ...event, occurredAt: event.occurredAt.toISOString() });
  return createHash('sha256').update(previousHash, 'utf8').update(canonical ?? '', 'utf8').digest('hex');
}

/** A stored row (as the owner reads it) as the fields the chain covers. */
export function chainedFieldsOf(row: Record<string, any>): ChainedFields {
  return {
    id: row.id, tenantId: row.tenant_id, seq: Number(row.seq), occurredAt: new Date(row.occurred_at), action: row.action, outcome: row.outcome,
    actorType: row.actor_type, actorId: row.actor_id, targetType: row.target_type, targetId: row.target_id, ip: row.ip,
    userAgent: row.user_agent, sessionId: row.session_id, details: row.details,
  };
}

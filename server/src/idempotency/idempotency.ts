import type { EntityManager } from '@mikro-orm/postgresql';
import canonicalize from 'canonicalize';
import { type DocumentNode, type GraphQLError, print } from 'graphql';
import { createHash, randomUUID } from 'node:crypto';
import type { Viewer } from '../access/viewer.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { claimLease } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { IdempotentRequest } from './idempotent-request.entity.ts';

/** Visible ASCII, as Stripe and the IETF draft have it: a UUID fits, a header injection does not. */
const KEY = /^[\x21-\x7e]{1,200}$/;

/** A mutation's Idempotency-Key, once the request is known: claimed in the mutation's transaction. */
export interface IdempotencyClaim {
  key: string;
  principal: string;
  requestHash: string;
  /** Set once the transaction that claimed the key committed: the answer is then stored for retries. */
  claimed: boolean;
}

export const isIdempotencyKey = (value: string) => KEY.test(value);

export function idempotencyClaim(viewer: Viewer, key: string, request: { document: DocumentNode; operationName?: string | null; variables?: unknown }): IdempotencyClaim {
  const principal = viewer.kind === 'api_key' ? `api_key:${viewer.apiKeyId}` : `user:${viewer.user.id}`;
  const canonical = canonicalize({ query: print(request.document), operationName: request.operationName ?? null, variables: request.variables ?? {} })!;
  return { key, principal, requestHash: createHash('sha256').update(canonical).digest('hex'), claimed: false };
}

/**
 * Before a mutation runs: the first answer when the same request came with this key before (a client
 * retrying after a timeout or a failover), a CONFLICT when the key came with another request or its answer
 * was lost, or null to run it.
 */
export async function replayOf(services: Services, tenantId: string, claim: IdempotencyClaim): Promise<{ response: Record<string, unknown> } | GraphQLError | null> {
  const found = await services.db.forTenant(tenantId).findOne(IdempotentRequest, { principal: claim.principal, key: claim.key });
  if (!found) return null;
  if (found.requestHash !== claim.requestHash) return clientError(ErrorCode.CONFLICT, 'This Idempotency-Key came with another request: use a new key for a new request.');
  if (!found.response) return clientError(ErrorCode.CONFLICT, 'This request was applied already and its answer was lost (a failover): read the current state instead of sending it again.');
  return { response: found.response };
}

/**
 * In the mutation's own transaction (asViewer): the key exists exactly when the change does. The same key
 * sent twice at once waits here for the first, then is refused.
 */
export async function claimKey(em: EntityManager, tenantId: string, claim: IdempotencyClaim, now: Date): Promise<void> {
  try {
    await em.insert(IdempotentRequest, { id: randomUUID(), tenant: tenantId, principal: claim.principal, key: claim.key, requestHash: claim.requestHash, createdAt: now, response: null });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw clientError(ErrorCode.CONFLICT, 'A request with this Idempotency-Key was applied or is running: send it again in a moment for its answer.');
    throw error;
  }
}

/** After the mutation committed: its answer, for the retries. */
export async function storeAnswer(services: Services, tenantId: string, claim: IdempotencyClaim, response: Record<string, unknown>): Promise<void> {
  await services.db.forTenant(tenantId).nativeUpdate(IdempotentRequest, { principal: claim.principal, key: claim.key, response: null }, { response });
}

/** How long a key and its answer are kept: a day, as Stripe keeps them; a retry after that runs again. */
export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;
export const IDEMPOTENCY_PRUNE_JOB = 'idempotency_prune';

/** Drops the keys older than the retention, company by company; one instance per lease. */
export async function pruneIdempotencyKeys(services: Services, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), IDEMPOTENCY_PRUNE_JOB, now, leaseSeconds))) return 0;
  const before = new Date(now.getTime() - IDEMPOTENCY_RETENTION_SECONDS * 1000);
  let pruned = 0;
  for (const tenantId of await services.locators.allTenantIds()) {
    pruned += await services.db.forTenant(tenantId).nativeDelete(IdempotentRequest, { createdAt: { $lt: before } });
  }
  return pruned;
}

import canonicalize from 'canonicalize';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { rolePermissions } from '../access/permissions.ts';
import { Role } from '../access/role.entity.ts';
import { ApiKey } from '../api-keys/api-key.entity.ts';
import { revokeApiKey } from '../api-keys/api-keys.ts';
import { dropCheckpoints } from '../audit/checkpoints.ts';
import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { sessionViewerOf } from '../context.ts';
import { ErrorCode, badInput, forbidden, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { forceRotation } from '../sessions/session-management.ts';
import { endSessions } from '../sessions/sessions.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { isUuid } from '../tokens.ts';
import { type ViewerWork, type Work, inTenantTransaction } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { displayableText, parseInput } from '../validation.ts';
import { CriticalOperation, type CriticalKind } from './critical-operation.entity.ts';
import { purgeCompany } from './purge.ts';
import { keepJournalledPurgeReceipts } from './purge-receipts.ts';
import { type CriticalOperationView, type Transition, takeTransition } from './transitions.ts';

const HOUR = 3600;
/** The deadlines of OPERATIONS.md §1: a week to verify, three days to change one's mind, a day to accept, a month before the purge. */
export const CRITICAL_POLICY = { expiresSeconds: 7 * 24 * HOUR, coolingOffSeconds: 72 * HOUR, acceptSeconds: 24 * HOUR, purgeAfterSeconds: 30 * 24 * HOUR } as const;

const ReasonSchema = z.object({ reason: displayableText(10, 500, 'Say why, in at least 10 characters.') });
const TransferSchema = ReasonSchema.extend({ newOwnerId: z.string().refine(isUuid, 'Choose an employee.') });
const CancelSchema = z.object({ id: z.string().refine(isUuid, 'Not an operation id.'), reason: displayableText(0, 500).optional() });

/** SHA-256 of the exact parameters (RFC 8785 JSON): what the operator approves, and the database compares. */
export function intentHashOf(intent: { kind: CriticalKind; tenantId: string; operationId: string; params: Record<string, unknown>; requestedBy: string; requestedAt: Date }): string {
  return createHash('sha256').update(canonicalize({ ...intent, requestedAt: intent.requestedAt.toISOString() })!).digest('hex');
}

export function requestDeletion(work: ViewerWork, input: unknown): Promise<CriticalOperationView> {
  const { reason } = parseInput(ReasonSchema, input);
  return requestOperation(work, 'tenant.delete', {}, reason);
}

/** The new owner is an existing, active employee; the old owner becomes an administrator. */
export async function requestTransfer(work: ViewerWork, input: unknown): Promise<CriticalOperationView> {
  const { reason, newOwnerId } = parseInput(TransferSchema, input);
  const newOwner = await work.em.findOne(User, newOwnerId);
  if (!newOwner) throw notFound();
  if (newOwner.disabledAt) throw badInput([{ field: 'newOwnerId', message: 'Choose an active employee of the company.' }]);
  if (newOwner.id === work.viewer.user.id) throw badInput([{ field: 'newOwnerId', message: 'You own the company already.' }]);
  return requestOperation(work, 'tenant.transfer_ownership', { newOwnerId }, reason);
}

async function requestOperation(work: ViewerWork, kind: CriticalKind, params: Record<string, unknown>, reason: string): Promise<CriticalOperationView> {
  const viewer = sessionViewerOf(work);
  if (!viewer.isOwner) throw forbidden('Only the owner can ask for this.');
  const id = randomUUID();
  const requestedAt = work.now;
  const intentHash = intentHashOf({ kind, tenantId: viewer.tenantId, operationId: id, params, requestedBy: viewer.user.id, requestedAt });
  const row = {
    id, tenant_id: viewer.tenantId, kind, params, intent_hash: intentHash, state: 'requested', reason, requested_by: viewer.user.id, requested_at: requestedAt,
    expires_at: new Date(requestedAt.getTime() + CRITICAL_POLICY.expiresSeconds * 1000), legal_hold: false,
  };
  return transition(work, { id, kind, intentHash }, 'request', { row }, { reason, params });
}

/** One click of an owner or administrator, any time before it executes. */
export async function cancelOperation(work: ViewerWork, input: unknown): Promise<CriticalOperationView> {
  const { id, reason } = parseInput(CancelSchema, input);
  const current = await operationOrNotFound(work, id);
  return transition(work, current, 'cancel', { reason: reason ?? null }, { reason: reason ?? null });
}

/** The new owner's acceptance (with their own fresh proof, see the field): the transfer then happens at once. */
export async function acceptTransfer(work: ViewerWork, id: string): Promise<CriticalOperationView> {
  const current = await operationOrNotFound(work, id);
  await transition(work, current, 'accept', {}, {});
  return executeDue(work, current.id, 'execute');
}

export async function listOperations(work: Pick<Work, 'em'>): Promise<CriticalOperationView[]> {
  const found = await work.em.find(CriticalOperation, {}, { orderBy: { requestedAt: 'desc' } });
  return found.map(viewOf);
}

export async function transferOfferedToMe(work: ViewerWork): Promise<CriticalOperationView | null> {
  const offered = await work.em.findOne(CriticalOperation, { kind: 'tenant.transfer_ownership', state: 'approved', params: { newOwnerId: work.viewer.user.id } });
  return offered && viewOf(offered);
}

/**
 * The executor: every operation whose time has come, each in its own transaction of its company, executed
 * expired or purged by its database function under the row's lock, so that of two instances running this at
 * once, one does each (the other is refused and moves on). Nothing happens before its time. A purged company's
 * checkpoints go with it: the signed receipt in the platform journal names its journal's last link.
 */
export async function runDueCriticalOperations(services: Services): Promise<number> {
  const due = await services.db.prepared<{ tenant_id: string; id: string; transition: 'execute' | 'expire' | 'purge' }>(
    'vigil_due_critical_operations',
    'select tenant_id, id, transition from vigil_due_critical_operations($1)',
    [services.clock.now()],
  );
  let done = 0;
  for (const { tenant_id: tenantId, id, transition: next } of due) {
    try {
      if (next === 'purge') {
        const outcome = await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async (work) => purgeCompany(work, await operationOrNotFound(work, id)));
        if (outcome === 'purged') await afterPurge(services, tenantId);
      } else {
        await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, (work) => executeDue(work, id, next));
      }
      done += 1;
    } catch (error) {
      if ((error as { extensions?: { code?: string } }).extensions?.code !== ErrorCode.FAILED_PRECONDITION) throw error;
    }
  }
  return done;
}

/**
 * A purged company's checkpoints go; its receipt is kept beside the trail, where a restore of an older copy
 * finds it. A receipt not kept now (the bucket down) is kept by the next purge or drill.
 */
async function afterPurge(services: Services, tenantId: string): Promise<void> {
  dropCheckpoints(services.config.checkpointsDir, tenantId);
  try {
    await keepJournalledPurgeReceipts(services);
  } catch (error) {
    services.log.error({ err: error, tenantId }, 'purge receipt not kept outside the database yet');
  }
}

async function executeDue(work: Work, id: string, next: 'execute' | 'expire'): Promise<CriticalOperationView> {
  const current = await operationOrNotFound(work, id);
  const done = await takeTransition(work.em, work.journal, {
    tenantId: current.tenantId, operationId: id, transition: next, actor: { type: 'system', id: null }, origin: SYSTEM_ORIGIN,
    input: { purgeAfterSeconds: CRITICAL_POLICY.purgeAfterSeconds }, details: { kind: current.kind, intentHash: current.intentHash }, now: work.now,
  });
  if (next === 'execute') await (done.kind === 'tenant.delete' ? disableCompany(work, done.tenantId) : transferOwnership(work, String(done.params.newOwnerId)));
  return done;
}

/** Deletion, step one: nobody gets in any more, and nothing already in keeps working (sockets close on the signal). */
async function disableCompany(work: Work, tenantId: string): Promise<void> {
  await work.em.nativeUpdate(Tenant, { id: tenantId }, { disabledAt: work.now });
  await endSessions(work, {}, 'revoked');
  for (const key of await work.em.find(ApiKey, { revokedAt: null })) await revokeApiKey(work, key, 'company_deleted');
  work.signal({ everyone: true });
}

/** The roles swap in one transaction; both people's sessions rotate; the old owner's keys keep only what an administrator holds. */
async function transferOwnership(work: Work, newOwnerId: string): Promise<void> {
  const [ownerRole, adminRole] = await Promise.all([work.em.findOneOrFail(Role, { builtIn: 'owner' }), work.em.findOneOrFail(Role, { builtIn: 'administrator' })]);
  const oldOwner = await work.em.findOneOrFail(User, { role: ownerRole.id });
  const newOwner = await work.em.findOneOrFail(User, newOwnerId);
  if (newOwner.disabledAt) throw badInput([{ field: 'newOwnerId', message: 'The new owner was disabled meanwhile.' }]);
  oldOwner.role = adminRole;
  await work.em.flush();
  newOwner.role = ownerRole;
  await work.em.flush();
  for (const [user, from, to] of [[oldOwner, ownerRole, adminRole], [newOwner, null, ownerRole]] as const) {
    await work.journal.record({
      action: 'user.role_changed',
      target: { type: 'user', id: user.id },
      details: { toRoleId: to.id, toRole: to.name, ...(from ? { fromRoleId: from.id, fromRole: from.name } : {}), by: 'ownership_transfer' },
    });
    await forceRotation(work.em, user.id);
  }
  const kept = new Set<string>(rolePermissions(adminRole));
  for (const key of await work.em.find(ApiKey, { user: oldOwner.id, revokedAt: null })) key.permissions = key.permissions.filter((p) => kept.has(p));
  await work.em.flush();
  work.signal({ userIds: [oldOwner.id, newOwner.id] });
}

async function operationOrNotFound(work: Pick<Work, 'em'>, id: string): Promise<CriticalOperationView> {
  const found = isUuid(id) ? await work.em.findOne(CriticalOperation, id) : null;
  if (!found) throw notFound();
  return viewOf(found);
}

const viewOf = (op: CriticalOperation): CriticalOperationView => ({ ...op, tenantId: op.tenant.id });

function transition(
  work: Work,
  current: Pick<CriticalOperationView, 'id' | 'kind' | 'intentHash'>,
  next: Transition,
  input: Record<string, unknown>,
  details: Record<string, unknown>,
): Promise<CriticalOperationView> {
  const viewer = sessionViewerOf(work);
  return takeTransition(work.em, work.journal, {
    tenantId: viewer.tenantId, operationId: current.id, transition: next, actor: { type: 'user', id: viewer.user.id }, origin: work.journal.origin,
    input, details: { kind: current.kind, intentHash: current.intentHash, ...details }, now: work.now,
  });
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { CRITICAL_POLICY } from '../critical-ops/critical-ops.ts';
import { type CriticalOperationView, type Transition, readOperation, takeTransition } from '../critical-ops/transitions.ts';
import { notFound } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import { displayableText, parseInput } from '../validation.ts';
import type { OperatorWork } from './operator-work.ts';

export const VERIFICATION_METHODS = ['call_back', 'ticket', 'video_call'] as const;

export type ReviewedOperation = CriticalOperationView & { tenantName: string };

const Id = z.string().refine(isUuid, 'Not an operation id.');
const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'An intent hash is 64 hexadecimal digits.');
const VerifySchema = z.object({ id: Id, intentHash: Hash, method: z.enum(VERIFICATION_METHODS), reference: displayableText(3, 200, 'Name the ticket, or the number called and when.') });
const ApproveSchema = z.object({ id: Id, intentHash: Hash });
const DenySchema = z.object({ id: Id, reason: displayableText(3, 500) });
const HoldSchema = z.object({ id: Id, legalHold: z.boolean() });

/** Every company's critical operations, as vigil_ops_critical_operations shows them to the operators. */
export async function reviewedOperations(em: EntityManager): Promise<ReviewedOperation[]> {
  const rows = await em.execute<Array<Record<string, unknown>>>('select * from vigil_ops_critical_operations()');
  return rows.map((row) => ({ ...readOperation(em, row, String(row.tenant_id)), tenantName: String(row.tenant_name) }));
}

/** The operator's out-of-band check (how, and the ticket or call), on the hash they were shown. */
export function verifyOperation(work: OperatorWork, input: unknown) {
  const { id, intentHash, method, reference } = parseInput(VerifySchema, input);
  return review(work, id, 'verify', { intentHash, verification: { method, reference } }, { method, reference });
}

/** The approval of exactly these parameters: a different hash, a second approval or an expired request is refused by the database. */
export function approveOperation(work: OperatorWork, input: unknown) {
  const { id, intentHash } = parseInput(ApproveSchema, input);
  return review(work, id, 'approve', { intentHash, coolingOffSeconds: CRITICAL_POLICY.coolingOffSeconds, acceptSeconds: CRITICAL_POLICY.acceptSeconds }, {});
}

export function denyOperation(work: OperatorWork, input: unknown) {
  const { id, reason } = parseInput(DenySchema, input);
  return review(work, id, 'deny', { reason }, { reason });
}

/** A legal hold keeps a deleted company's data past its purge date, until lifted. */
export function holdOperation(work: OperatorWork, input: unknown) {
  const { id, legalHold } = parseInput(HoldSchema, input);
  return review(work, id, 'hold', { legalHold }, { legalHold });
}

async function review(work: OperatorWork, id: string, next: Transition, input: Record<string, unknown>, details: Record<string, unknown>): Promise<ReviewedOperation> {
  const current = (await reviewedOperations(work.em)).find((op) => op.id === id);
  if (!current) throw notFound();
  const done = await takeTransition(work.em, work.journal, {
    tenantId: current.tenantId, operationId: id, transition: next, actor: { type: 'operator', id: work.operator!.operator.id }, origin: work.journal.origin,
    input, details: { kind: current.kind, intentHash: current.intentHash, ...details }, now: work.now,
  });
  return { ...done, tenantName: current.tenantName };
}

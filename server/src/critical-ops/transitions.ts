import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../audit/actions.ts';
import { type AuditOrigin, type JournalWriter, type AppendedRow, bothJournals } from '../audit/journal.ts';
import { type MetadataSource, jsonOf, rowReader } from '../db/rows.ts';
import { failedPrecondition, notFound } from '../errors.ts';
import type { CriticalOperation } from './critical-operation.entity.ts';

export type Transition = 'request' | 'verify' | 'approve' | 'accept' | 'cancel' | 'deny' | 'hold' | 'refuse_purge' | 'expire' | 'execute';

/** Who takes a transition, as vigil_critical_transition checks it: a company's user, an operator, or Vigil's executor. */
export interface TransitionActor {
  type: 'user' | 'operator' | 'system';
  id: string | null;
}

const ACTIONS: Record<Transition, AuditAction> = {
  request: 'critical_operation.requested',
  verify: 'critical_operation.verified',
  approve: 'critical_operation.approved',
  accept: 'critical_operation.accepted',
  cancel: 'critical_operation.cancelled',
  deny: 'critical_operation.denied',
  hold: 'critical_operation.legal_hold_changed',
  refuse_purge: 'critical_operation.purge_refused',
  expire: 'critical_operation.expired',
  execute: 'critical_operation.executed',
};

/** What a critical operation looks like to Vigil's code: every column (none is secret). */
export const CRITICAL_VIEW = [
  'id', 'kind', 'params', 'intentHash', 'state', 'reason', 'requestedBy', 'requestedAt', 'expiresAt', 'verifiedBy', 'verifiedAt', 'verification',
  'approvedBy', 'approvedAt', 'acceptBy', 'acceptedAt', 'executesAt', 'executedAt', 'purgeAt', 'legalHold', 'closedAt', 'closedBy', 'closeReason',
] as const satisfies ReadonlyArray<keyof CriticalOperation>;
export type CriticalOperationView = Pick<CriticalOperation, (typeof CRITICAL_VIEW)[number]> & { tenantId: string };

export interface TransitionArgs {
  tenantId: string;
  operationId: string;
  transition: Transition;
  actor: TransitionActor;
  origin: AuditOrigin;
  /** What the function needs besides (the new row, the intent hash an operator approves, durations…). */
  input: Record<string, unknown>;
  /** What both journals record of it: the kind and the intent hash always, never a secret. */
  details: { kind: string; intentHash: string } & Record<string, unknown>;
  now: Date;
}

/**
 * Takes one transition through vigil_critical_transition in the caller's transaction (the company's, as
 * vigil_app; or the operators', as vigil_ops), with its entry for the company's journal and the platform's;
 * both are adopted by the caller's journal writer, to be published once the transaction commits. A refusal
 * of the database is FAILED_PRECONDITION with its sentence (or NOT_FOUND).
 */
export async function takeTransition(em: EntityManager, journal: JournalWriter, args: TransitionArgs): Promise<CriticalOperationView> {
  const { tenantId, operationId, transition, actor, origin, input, details, now } = args;
  const journals = bothJournals(tenantId, origin, now, { action: ACTIONS[transition], target: { type: 'critical_operation', id: operationId }, details });
  let result: { operation: Record<string, unknown>; tenant: AppendedRow[]; platform: AppendedRow[] };
  try {
    const [row] = await em.execute<Array<{ result: unknown }>>('select vigil_critical_transition(?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::jsonb) as result', [
      tenantId, operationId, transition, JSON.stringify(actor), JSON.stringify(input), now, JSON.stringify(journals.argument),
    ]);
    result = jsonOf(row.result);
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
  journals.adoptInto(journal, result);
  return readOperation(em, result.operation, tenantId);
}

/** The database's refusals, by their SQLSTATE (see vigil_critical_transition.sql). */
export function refusalOf(error: unknown) {
  const { code, message } = error as { code?: string; message?: string };
  const sentence = (message ?? '').split('\n')[0].replace(/^.* - /, '');
  if (code === 'VG001') return failedPrecondition(sentence);
  if (code === 'VG002') return notFound();
  return null;
}

let read: ((row: Record<string, unknown>) => Omit<CriticalOperationView, 'tenantId'>) | null = null;

/** A critical_operation row (to_jsonb or a raw select) as its view; the metadata is any EntityManager's or ORM's. */
export function readOperation(metadata: MetadataSource, row: Record<string, unknown>, tenantId: string): CriticalOperationView {
  read ??= rowReader<Omit<CriticalOperationView, 'tenantId'>>(metadata, 'CriticalOperation', CRITICAL_VIEW);
  return { ...read(row), tenantId };
}

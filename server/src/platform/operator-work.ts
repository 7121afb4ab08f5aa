import type { EntityManager } from '@mikro-orm/postgresql';
import { type AuditOrigin, JournalWriter } from '../audit/journal.ts';
import type { RequestMeta } from '../context.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { Services } from '../services.ts';
import { publishCommitted } from '../unit-of-work.ts';
import type { OpsContext } from './ops-context.ts';
import type { OperatorViewer } from './operator-viewer.ts';
import { ErrorCode, clientError } from '../errors.ts';

/** What an operator's rule works with: one transaction as vigil_ops, and the platform journal. */
export interface OperatorWork {
  em: EntityManager;
  journal: JournalWriter;
  operator: OperatorViewer | null;
  now: Date;
}

/** What the operators' transactions need of Vigil's services (the command line has no more). */
export type OperatorServices = Pick<Services, 'db' | 'clock' | 'bus'>;

/** Who acts in the platform journal: the operator (their session in the details), or nobody yet. */
export function operatorOrigin(meta: RequestMeta, operator: OperatorViewer | null, operatorId = operator?.operator.id ?? null): AuditOrigin {
  return { actorType: operatorId ? 'operator' : 'anonymous', actorId: operatorId, sessionId: null, ip: meta.ip, userAgent: meta.userAgent };
}

/** How an ops resolver runs a rule: as its signed-in operator (the field's scope required one). */
export function asOperator<T>(ctx: OpsContext, rule: (work: OperatorWork) => Promise<T>): Promise<T> {
  if (!ctx.operator) throw clientError(ErrorCode.UNAUTHENTICATED);
  return asOperatorRole(ctx.services, operatorOrigin(ctx.meta, ctx.operator), ctx.operator, rule);
}

/**
 * Runs an operator's change and its platform journal entries in one transaction as vigil_ops (which can
 * touch no tenant table) and publishes the entries once it committed: the operators' asViewer.
 */
export async function asOperatorRole<T>(services: OperatorServices, origin: AuditOrigin, operator: OperatorViewer | null, rule: (work: OperatorWork) => Promise<T>): Promise<T> {
  let journal: JournalWriter | undefined;
  const now = services.clock.now();
  const result = await services.db.asOperatorRole(async (em) => {
    journal = new JournalWriter(em, PLATFORM_TENANT_ID, origin, services.clock, 'vigil_append_operator_audit');
    return rule({ em, journal, operator, now });
  });
  publishCommitted(services, { events: journal?.recorded ?? [] });
  return result;
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { jsonOf } from '../db/rows.ts';
import type { OpsContext } from './ops-context.ts';
import type { OperatorSignedIn } from './operator-sessions.ts';
import type { OperatorViewer } from './operator-viewer.ts';

export interface PlatformEvent {
  seq: number;
  occurredAt: Date;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  hash: string;
}

/** The platform journal through vigil_platform_journal (vigil_ops has no grant on audit_event). */
export async function platformJournal(em: EntityManager, beforeSeq: number | null, first: number): Promise<PlatformEvent[]> {
  const rows = await em.execute<Array<Record<string, unknown>>>('select * from vigil_platform_journal(?, ?)', [beforeSeq, first]);
  return rows.map((row) => ({
    seq: Number(row.seq),
    occurredAt: new Date(row.occurred_at as string),
    action: String(row.action),
    outcome: String(row.outcome),
    actorType: String(row.actor_type),
    actorId: (row.actor_id as string | null) ?? null,
    targetType: (row.target_type as string | null) ?? null,
    targetId: (row.target_id as string | null) ?? null,
    details: jsonOf<Record<string, unknown>>(row.details),
    hash: String(row.hash),
  }));
}

/** A signed-in operator: the cookie for the console, the viewer for the rest of this request's fields. */
export function signInPayload(ctx: OpsContext, signedIn: OperatorSignedIn): OperatorSignedIn {
  ctx.cookies?.set(signedIn.token, signedIn.viewer.session.expiresAt);
  ctx.operator = signedIn.viewer;
  return signedIn;
}

/** After a step-up: the viewer as it now stands (its proof renewed). */
export function authenticatedPayload(ctx: OpsContext, steppedUpAt: Date): OperatorViewer {
  const viewer = ctx.operator!;
  ctx.operator = { ...viewer, session: { ...viewer.session, steppedUpAt } };
  return ctx.operator;
}

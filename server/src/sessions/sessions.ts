import type { EntityManager } from '@mikro-orm/postgresql';
import type { SessionView, TenantView, UserView } from '../access/viewer.ts';
import type { AuditAction } from '../audit/actions.ts';
import type { Work } from '../unit-of-work.ts';
import { Session, type SessionEndReason, RetiredSessionSecret } from './session.entity.ts';
import { mintSessionSecret } from './session-token.ts';

export interface IssuedSession {
  session: SessionView;
  /** Shown to the client once; never stored. */
  token: string;
}

/** A completed sign-in (password, code, invitation, reset or sign-up): the session and who it is for. */
export interface SignedIn extends IssuedSession {
  user: UserView;
  tenant: TenantView;
  deviceToken: string | null;
}

/** A new secret for the same session; the old one stays valid for the tenant's grace window. */
export async function rotateSession(work: Work, session: SessionView, tenant: TenantView): Promise<string | null> {
  const { now } = work;
  const { token, secretHash } = mintSessionSecret(session.id);
  // Conditional on the secret we saw: of two concurrent rotations, exactly one wins.
  const updated = await work.em.nativeUpdate(
    Session,
    { id: session.id, secretHash: session.secretHash, endedAt: null },
    {
      secretHash,
      previousSecretHash: session.secretHash,
      previousValidUntil: new Date(now.getTime() + tenant.rotationGraceSeconds * 1000),
      rotatedAt: now,
      lastSeenAt: now,
    },
  );
  if (updated !== 1) return null;
  if (session.previousSecretHash) {
    await work.em.insert(RetiredSessionSecret, {
      secretHash: session.previousSecretHash,
      tenant: tenant.id,
      session: session.id,
      retiredAt: now,
    });
  }
  await work.journal.record({ action: 'session.rotated', target: { type: 'session', id: session.id } });
  return token;
}

const END_ACTIONS: Record<SessionEndReason, AuditAction> = {
  signed_out: 'session.signed_out',
  revoked: 'session.revoked',
  expired: 'session.expired',
  token_reuse: 'session.token_reuse_detected',
  password_changed: 'session.revoked',
  user_disabled: 'session.revoked',
  email_changed: 'session.revoked',
};

/** Ends sessions server-side and journals each; returns the ids that were still open. */
export async function endSessions(
  work: Work,
  where: { ids?: string[]; userId?: string; exceptId?: string },
  reason: SessionEndReason,
): Promise<string[]> {
  const open = await findOpenSessions(work.em, where);
  for (const session of open) {
    session.endedAt = work.now;
    session.endReason = reason;
  }
  await work.em.flush();
  if (open.length) work.signal({ sessionIds: open.map((s) => s.id) });
  for (const session of open) {
    await work.journal.record({
      action: END_ACTIONS[reason],
      outcome: reason === 'token_reuse' ? 'denied' : 'success',
      target: { type: 'session', id: session.id },
      details: { reason, userId: session.user.id },
    });
  }
  return open.map((s) => s.id);
}

async function findOpenSessions(em: EntityManager, where: { ids?: string[]; userId?: string; exceptId?: string }) {
  return em.find(Session, {
    endedAt: null,
    ...(where.ids ? { id: { $in: where.ids } } : {}),
    ...(where.userId ? { user: where.userId } : {}),
    ...(where.exceptId ? { id: { ...(where.ids ? { $in: where.ids } : {}), $ne: where.exceptId } } : {}),
  });
}

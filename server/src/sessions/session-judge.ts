import type { SessionView, TenantView, UserView } from '../access/viewer.ts';
import type { AuditOrigin } from '../audit/journal.ts';
import type { Services } from '../services.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { endSessions } from './sessions.ts';

/** Whether a session may act now, and until when if nothing changes; or why not. */
export type SessionVerdict = { alive: true; deadline: Date } | { alive: false; reason: 'ended' | 'user_disabled' | 'expired' };

/**
 * The one judge of a session's validity, for HTTP authentication and open sockets alike: ended or its
 * user disabled, it is dead; past its idle timeout or its absolute lifetime, it has expired (and the
 * caller ends it, see endExpiredSession). A new session rule goes here and in the tenant's settings.
 */
export function judgeSession(session: SessionView, user: Pick<UserView, 'disabledAt'>, tenant: TenantView, now: Date): SessionVerdict {
  if (session.endedAt || tenant.disabledAt) return { alive: false, reason: 'ended' };
  if (user.disabledAt) return { alive: false, reason: 'user_disabled' };
  const deadline = sessionDeadline(session, tenant);
  return now >= deadline ? { alive: false, reason: 'expired' } : { alive: true, deadline };
}

/** When the session expires if nothing changes: at its idle end or its absolute end, whichever comes first. */
export function sessionDeadline(session: Pick<SessionView, 'lastSeenAt' | 'expiresAt'>, tenant: Pick<TenantView, 'idleTimeoutSeconds'>): Date {
  const idleEnd = new Date(session.lastSeenAt.getTime() + tenant.idleTimeoutSeconds * 1000);
  return idleEnd < session.expiresAt ? idleEnd : session.expiresAt;
}

/** An expired session found in use is ended and journalled (`session.expired`), by the system. */
export async function endExpiredSession(services: Services, tenantId: string, sessionId: string, origin: Pick<AuditOrigin, 'ip' | 'userAgent'>): Promise<void> {
  const system = { actorType: 'system' as const, actorId: null, sessionId, ip: origin.ip, userAgent: origin.userAgent };
  await inTenantTransaction(services, { tenantId, origin: system, viewer: null }, (work) => endSessions(work, { ids: [sessionId] }, 'expired'));
}

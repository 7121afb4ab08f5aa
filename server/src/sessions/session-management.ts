import type { EntityManager } from '@mikro-orm/postgresql';
import { sessionViewerOf } from '../context.ts';
import { notFound } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import type { ViewerWork, Work } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { Session } from './session.entity.ts';
import { endSessions } from './sessions.ts';

/** A user's sessions, newest first; ended ones only on request. */
export function listSessions(em: EntityManager, userId: string, includeEnded: boolean): Promise<Session[]> {
  return em.find(Session, { user: userId, ...(includeEnded ? {} : { endedAt: null }) }, { orderBy: { createdAt: 'desc' }, limit: 200 });
}

/** Another tenant's id and an id that does not exist are the same NOT_FOUND. */
export async function findUserOrNotFound(em: EntityManager, userId: string): Promise<User> {
  const user = isUuid(userId) ? await em.findOne(User, userId) : null;
  if (!user) throw notFound();
  return user;
}

/** One session: the caller's own, or anyone's in the tenant with sessions.revoke_all. */
export async function revokeOneSession(work: ViewerWork, sessionId: string): Promise<Session> {
  const { viewer } = work;
  const session = isUuid(sessionId) ? await work.em.findOne(Session, sessionId) : null;
  const mayRevoke = session && (session.user.id === viewer.user.id || viewer.permissions.has('sessions.revoke_all'));
  if (!session || !mayRevoke) throw notFound();
  await endSessions(work, { ids: [session.id] }, 'revoked');
  return session;
}

/** The caller's own sessions, but the one they call from when `keepCurrent`. */
export function revokeOwnSessions(work: ViewerWork, { keepCurrent }: { keepCurrent: boolean }): Promise<string[]> {
  const viewer = sessionViewerOf(work);
  return revokeSessionsOfUser(work, viewer.user.id, keepCurrent ? viewer.session.id : undefined);
}

/** Every session of an employee (sessions.revoke_all). */
export async function revokeEmployeeSessions(work: ViewerWork, userId: string): Promise<string[]> {
  const user = await findUserOrNotFound(work.em, userId);
  return revokeSessionsOfUser(work, user.id);
}

function revokeSessionsOfUser(work: Work, userId: string, exceptSessionId?: string): Promise<string[]> {
  return endSessions(work, { userId, exceptId: exceptSessionId }, 'revoked');
}

/**
 * Makes the user's next request rotate its token (after a change of rights): the old token keeps
 * working only through the normal grace window once the new one has been issued.
 */
export async function forceRotation(em: EntityManager, userId: string): Promise<void> {
  await em.nativeUpdate(Session, { user: userId, endedAt: null }, { rotatedAt: new Date(0) });
}

import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../access/viewer.ts';
import { notFound } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import type { Work } from '../unit-of-work.ts';
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
export async function revokeOneSession(work: Work, viewer: Viewer, sessionId: string, now: Date): Promise<Session> {
  const session = isUuid(sessionId) ? await work.em.findOne(Session, sessionId) : null;
  const mayRevoke = session && (session.user.id === viewer.user.id || viewer.permissions.has('sessions.revoke_all'));
  if (!session || !mayRevoke) throw notFound();
  await endSessions(work, { ids: [session.id] }, 'revoked', now);
  return session;
}

export function revokeSessionsOfUser(work: Work, userId: string, now: Date, exceptSessionId?: string): Promise<string[]> {
  return endSessions(work, { userId, exceptId: exceptSessionId }, 'revoked', now);
}

/**
 * Makes the user's next request rotate its token (after a change of rights): the old token keeps
 * working only through the normal grace window once the new one has been issued.
 */
export async function forceRotation(em: EntityManager, userId: string): Promise<void> {
  await em.nativeUpdate(Session, { user: userId, endedAt: null }, { rotatedAt: new Date(0) });
}

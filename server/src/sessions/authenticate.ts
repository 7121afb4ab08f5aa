import type { EntityManager } from '@mikro-orm/postgresql';
import { type SessionView, type SessionViewer, sessionViewer } from '../access/viewer.ts';
import type { AuditOrigin } from '../audit/journal.ts';
import type { RequestMeta } from '../context.ts';
import type { Services } from '../services.ts';
import { sameHash } from '../tokens.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { RetiredSessionSecret, Session } from './session.entity.ts';
import { readSessionToken } from './session-token.ts';
import { endExpiredSession, judgeSession } from './session-judge.ts';
import { endSessions, rotateSession } from './sessions.ts';

/** last_seen is written at most this often; idle expiry is exact to within this window. */
export const LAST_SEEN_RESOLUTION_SECONDS = 60;

export interface SessionAuthResult {
  viewer: SessionViewer | null;
  em: EntityManager | null;
  /** Set after a rotation: the client's new token. */
  rotatedToken?: string;
  /** The presented token is dead or forged: the client should forget it. */
  clearToken: boolean;
}

export interface AuthenticateOptions {
  /** Rotate the token when due (HTTP); a socket cannot receive a new cookie, so it does not. */
  rotate: boolean;
  /** Count this as activity for the idle timeout. */
  touch: boolean;
}

const anonymous = (clearToken: boolean): SessionAuthResult => ({ viewer: null, em: null, clearToken });

type SecretMatch = 'current' | 'grace' | 'reused' | 'unknown';

/**
 * Resolves a session token to its viewer, enforcing lifetimes, rotation and reuse detection.
 * Every invalid token is anonymous; a forged one writes nothing.
 */
export async function authenticateSession(
  services: Services,
  token: string | null,
  meta: RequestMeta,
  options: AuthenticateOptions,
): Promise<SessionAuthResult> {
  const presented = readSessionToken(token);
  if (!presented) return anonymous(token !== null);
  const found = await services.credentials.session(presented.sessionId);
  if (!found) return anonymous(true);
  const { em, session, tenant, user } = found;
  const tenantId = tenant.id;
  const now = services.clock.now();
  const verdict = judgeSession(session, user, tenant, now);
  if (!verdict.alive && verdict.reason !== 'expired') return anonymous(true);

  const match = await matchSecret(em, session, presented.secretHash, now);
  if (match === 'unknown') return anonymous(true);
  const origin = originFor(session, meta);
  if (match === 'reused') {
    // Someone holds a secret the session rotated away from: the thief or the user, we cannot tell. End it.
    await inTenantTransaction(services, { tenantId, origin: { ...origin, actorType: 'anonymous', actorId: null }, viewer: null }, (work) =>
      endSessions(work, { ids: [session.id] }, 'token_reuse'),
    );
    return anonymous(true);
  }
  if (!verdict.alive) {
    await endExpiredSession(services, tenantId, session.id, origin);
    return anonymous(true);
  }

  const viewer = sessionViewer(tenant, user, session);
  if (options.rotate && match === 'current' && secondsSince(session.rotatedAt, now) >= tenant.rotationIntervalSeconds) {
    const rotatedToken = await inTenantTransaction(services, { tenantId, origin, viewer: null }, (work) => rotateSession(work, session, tenant));
    return { viewer, em, rotatedToken: rotatedToken ?? undefined, clearToken: false };
  }
  if (options.touch && secondsSince(session.lastSeenAt, now) >= LAST_SEEN_RESOLUTION_SECONDS) {
    await em.nativeUpdate(Session, { id: session.id, endedAt: null }, { lastSeenAt: now });
  }
  return { viewer, em, clearToken: false };
}

async function matchSecret(em: EntityManager, session: SessionView, secretHash: string, now: Date): Promise<SecretMatch> {
  if (sameHash(secretHash, session.secretHash)) return 'current';
  if (session.previousSecretHash && sameHash(secretHash, session.previousSecretHash)) {
    return session.previousValidUntil && now <= session.previousValidUntil ? 'grace' : 'reused';
  }
  const retired = await em.count(RetiredSessionSecret, { secretHash, session: session.id });
  return retired > 0 ? 'reused' : 'unknown';
}

function originFor(session: SessionView, meta: RequestMeta): AuditOrigin {
  return { actorType: 'user', actorId: session.user.id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent };
}

function secondsSince(then: Date, now: Date): number {
  return (now.getTime() - then.getTime()) / 1000;
}

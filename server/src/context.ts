import type { EntityManager } from '@mikro-orm/postgresql';
import type { SessionViewer, Viewer } from './access/viewer.ts';
import type { AuditOrigin } from './audit/journal.ts';
import { ErrorCode, clientError } from './errors.ts';
import type { IdempotencyClaim } from './idempotency/idempotency.ts';
import type { Services } from './services.ts';

/** Where a request comes from, as far as Vigil can trust it. */
export interface RequestMeta {
  /** The client address: the socket peer, or X-Forwarded-For when the peer is a configured proxy. */
  ip: string | null;
  userAgent: string | null;
  /** Served over TLS: cookies get the __Host- prefix and Secure. */
  secure: boolean;
  /** The known-device cookie, if the browser sent one. */
  deviceToken: string | null;
  /** The Idempotency-Key header, as sent (idempotency/). */
  idempotencyKey?: string | null;
}

/** The caller a credential stands for, and the EntityManager of their tenant for this request. */
export interface RequestAuth {
  viewer: Viewer | null;
  em: EntityManager | null;
}

/**
 * The cookies a resolver may set (sign-in, sign-out, password change), written by the transport (over
 * HTTPS with the __Host- prefix); absent over WebSocket, where nothing can be set.
 */
export interface SessionCookies {
  /** The session cookie, expiring with the session (its max-age from Vigil's clock). */
  setSession(token: string, expiresAt: Date): void;
  clearSession(): void;
  /** The known-device cookie that lets its browser in past an account lock triggered elsewhere. */
  setDevice(token: string): void;
}

/** The operators' session cookie, written by the transport of /ops/graphql. */
export interface OperatorCookies {
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface Denial {
  field: string;
  missing: string[];
}

export interface Context {
  services: Services;
  meta: RequestMeta;
  viewer: Viewer | null;
  /** The viewer's tenant EntityManager, forked for this request only. */
  em: EntityManager | null;
  cookies: SessionCookies | null;
  /** Fields refused to this operation's caller and what it lacked, journalled when the operation ends (access/denials.ts). */
  denials: Denial[];
  /** A mutation sent with an Idempotency-Key: its one transaction claims the key (unit-of-work.ts). */
  idempotency?: IdempotencyClaim | null;
}

/** Who acts before a session exists: the user proving who they are (or nobody yet), from the request's address. */
export function signInOrigin(meta: RequestMeta, userId: string | null): AuditOrigin {
  return { actorType: userId ? 'user' : 'anonymous', actorId: userId, sessionId: null, ip: meta.ip, userAgent: meta.userAgent };
}

const ACTOR_TYPES = { session: 'user', api_key: 'api_key', support: 'operator' } as const;

export function auditOrigin(ctx: Pick<Context, 'meta' | 'viewer'> & { idempotency?: IdempotencyClaim | null }): AuditOrigin {
  const viewer = ctx.viewer;
  return {
    actorType: viewer ? ACTOR_TYPES[viewer.kind] : 'anonymous',
    actorId: viewer ? viewer.user.id : null,
    apiKeyId: viewer?.kind === 'api_key' ? viewer.apiKeyId : null,
    sessionId: viewer?.kind === 'session' ? viewer.session.id : null,
    idempotencyKey: ctx.idempotency?.key ?? null,
    ip: ctx.meta.ip,
    userAgent: ctx.meta.userAgent,
  };
}

/** The caller, for resolvers whose scope already required one (a request's context or a unit of work). */
export function viewerOf(holder: { viewer: Viewer | null }): Viewer {
  if (!holder.viewer) throw clientError(ErrorCode.UNAUTHENTICATED);
  return holder.viewer;
}

/** The caller of what only a signed-in person, not an API key, may do. */
export function sessionViewerOf(holder: { viewer: Viewer | null }): SessionViewer {
  const viewer = viewerOf(holder);
  if (viewer.kind !== 'session') throw clientError(ErrorCode.FORBIDDEN, viewer.kind === 'support' ? 'Support access is read-only.' : 'An API key cannot do this.');
  return viewer;
}

/** The request's EntityManager for the caller's tenant. */
export function tenantEmOf(ctx: Context): EntityManager {
  if (!ctx.em) throw clientError(ErrorCode.UNAUTHENTICATED);
  return ctx.em;
}

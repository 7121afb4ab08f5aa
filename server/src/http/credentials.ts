import type { IncomingMessage } from 'node:http';
import type { RequestMeta } from '../context.ts';
import { SUPPORT_TOKEN_PREFIX } from '../support/support-access.ts';
import { readCookies } from './cookies.ts';

/** A session token, an API key or a support session's token, as a client presented it. Never from the URL (see credentialInUrl). */
export interface PresentedCredential {
  kind: 'session' | 'api_key' | 'support';
  value: string;
  via: 'cookie' | 'header';
}

/** Where a request may carry its credential: the same three places over HTTP and WebSocket. */
interface Sources {
  /** `Bearer <token or key>`. */
  authorization: unknown;
  /** An API key on its own (`X-Api-Key`, or `apiKey` in connectionParams). */
  apiKey: unknown;
  /** The session cookie's value, when the transport lets the cookie count. */
  cookie: string | null;
}

/** The one reading of a credential: Bearer first, then an API key, then the session cookie. */
function presentedIn(sources: Sources): PresentedCredential | null {
  if (typeof sources.authorization === 'string' && sources.authorization) {
    const value = /^Bearer\s+(\S+)\s*$/i.exec(sources.authorization)?.[1] ?? '';
    return { kind: value.startsWith('vgl_') ? 'api_key' : value.startsWith(SUPPORT_TOKEN_PREFIX) ? 'support' : 'session', value, via: 'header' };
  }
  if (typeof sources.apiKey === 'string' && sources.apiKey) return { kind: 'api_key', value: sources.apiKey.trim(), via: 'header' };
  return sources.cookie ? { kind: 'session', value: sources.cookie, via: 'cookie' } : null;
}

/** Over HTTP: the Authorization or X-Api-Key header, or the session cookie. */
export function httpCredential(req: IncomingMessage, meta: RequestMeta): PresentedCredential | null {
  return presentedIn({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'], cookie: readCookies(req.headers.cookie, meta.secure).session });
}

/**
 * On a WebSocket: connection_init's payload (`authorization`, `apiKey`), or the session cookie of the
 * upgrade — the cookie only when the browser named its Origin, which the allowlist has already approved.
 */
export function socketCredential(upgrade: IncomingMessage, params: Record<string, unknown> | undefined, meta: RequestMeta): PresentedCredential | null {
  const cookie = upgrade.headers.origin ? readCookies(upgrade.headers.cookie, meta.secure).session : null;
  return presentedIn({ authorization: params?.authorization, apiKey: params?.apiKey, cookie });
}

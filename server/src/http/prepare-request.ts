import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { authenticateApiKey } from '../api-keys/authenticate.ts';
import type { RequestAuth, RequestMeta, SessionCookies } from '../context.ts';
import type { Services } from '../services.ts';
import { authenticateSession } from '../sessions/authenticate.ts';
import { authenticateSupport } from '../support/support-access.ts';
import { type ResponseHeaders, readCookies, sessionCookies } from './cookies.ts';
import { httpCredential } from './credentials.ts';

/** A request as Vigil sees it once its origin is established and its credential checked. */
export interface PreparedRequest {
  meta: RequestMeta;
  auth: RequestAuth;
  /** Null over WebSocket, where no response headers can be sent. */
  cookies: SessionCookies | null;
}

export const ROTATED_TOKEN_HEADER = 'Vigil-Session-Token';

export type TrustProxy = ReturnType<typeof proxyAddr.compile>;

export function compileTrustedProxies(proxies: readonly string[]): TrustProxy {
  return proxyAddr.compile([...proxies]);
}

/** X-Forwarded-For and X-Forwarded-Proto count only when the peer is a configured proxy. */
export function requestMeta(req: IncomingMessage, trust: TrustProxy, tls: boolean): RequestMeta {
  const peerTrusted = req.socket.remoteAddress ? trust(req.socket.remoteAddress, 0) : false;
  const forwardedProto = peerTrusted ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() : '';
  const secure = tls || forwardedProto === 'https';
  return {
    ip: normalizeIp(proxyAddr(req, trust)),
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
    secure,
    deviceToken: readCookies(req.headers.cookie, secure).device,
    idempotencyKey: typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null,
  };
}

function normalizeIp(address: string | undefined): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const CREDENTIAL_PARAMS = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'session', 'session_token', 'vigil_session', 'authorization']);

/** A credential in a URL ends up in logs, history and Referer headers: such requests are refused outright. */
export function credentialInUrl(url: URL): boolean {
  for (const [name, value] of url.searchParams) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase()) || value.startsWith('vgl_')) return true;
  }
  return false;
}

export const CREDENTIAL_IN_URL_MESSAGE = 'Credentials are never accepted in a URL: send them in a header.';

/** Authenticates an HTTP request; a rotated token goes out as a cookie or a header, as it came in. */
export async function prepareHttpRequest(
  services: Services,
  req: IncomingMessage,
  meta: RequestMeta,
  responseHeaders: ResponseHeaders,
): Promise<PreparedRequest> {
  const credential = httpCredential(req, meta);
  const cookies = sessionCookies(responseHeaders, meta, services.clock);
  const anonymous = { meta, auth: { viewer: null, em: null }, cookies };
  if (!credential) return anonymous;
  if (credential.kind === 'api_key') return { meta, auth: await authenticateApiKey(services, credential.value, meta), cookies };
  if (credential.kind === 'support') return { meta, auth: await authenticateSupport(services, credential.value), cookies };
  const result = await authenticateSession(services, credential.value, meta, { rotate: true, touch: true });
  if (result.clearToken && credential.via === 'cookie') cookies.clearSession();
  if (result.rotatedToken && result.viewer) {
    if (credential.via === 'cookie') cookies.setSession(result.rotatedToken, result.viewer.session.expiresAt);
    else responseHeaders.append(ROTATED_TOKEN_HEADER, result.rotatedToken);
  }
  return { meta, auth: { viewer: result.viewer, em: result.em }, cookies };
}

import { parse, serialize } from 'cookie';
import type { Clock } from '../clock.ts';
import type { OperatorCookies, RequestMeta, SessionCookies } from '../context.ts';

const SESSION = 'vigil_session';
const DEVICE = 'vigil_device';
/** The platform operators' session, read only by /ops/graphql (and the session cookie only by /graphql). */
const OPERATOR = 'vigil-op';
const DEVICE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60;

/** Headers a response may still take (cookies, the rotated token of a bearer client). */
export interface ResponseHeaders {
  append(name: string, value: string): void;
}

/** Over TLS the __Host- prefix pins the cookie to this host, path / and Secure. */
const cookieName = (base: string, secure: boolean) => (secure ? `__Host-${base}` : base);

export function readCookies(header: string | undefined, secure: boolean): { session: string | null; device: string | null; operator: string | null } {
  const jar = header ? parse(header) : {};
  return { session: jar[cookieName(SESSION, secure)] ?? null, device: jar[cookieName(DEVICE, secure)] ?? null, operator: jar[cookieName(OPERATOR, secure)] ?? null };
}

/** The one writer of Vigil's cookies: HttpOnly, SameSite=Lax, path /, Secure and __Host- over TLS. */
export function sessionCookies(headers: ResponseHeaders, meta: RequestMeta, clock: Clock): SessionCookies {
  const write = cookieWriter(headers, meta, clock);
  return {
    setSession: (token, expiresAt) => write(SESSION, token, expiresAt),
    clearSession: () => write(SESSION, '', null),
    setDevice: (token) => write(DEVICE, token, new Date(clock.now().getTime() + DEVICE_MAX_AGE_SECONDS * 1000)),
  };
}

/** The operators' session cookie: SameSite=Strict, since the console never arrives from another site's link. */
export function operatorCookies(headers: ResponseHeaders, meta: RequestMeta, clock: Clock): OperatorCookies {
  const write = cookieWriter(headers, meta, clock, 'strict');
  return { set: (token, expiresAt) => write(OPERATOR, token, expiresAt), clear: () => write(OPERATOR, '', null) };
}

/** A cookie expiring at an instant of Vigil's clock (null: now, which deletes it). */
function cookieWriter(headers: ResponseHeaders, meta: RequestMeta, clock: Clock, sameSite: 'lax' | 'strict' = 'lax') {
  return (base: string, value: string, expiresAt: Date | null) => {
    const maxAge = expiresAt ? Math.max(1, Math.floor((expiresAt.getTime() - clock.now().getTime()) / 1000)) : 0;
    headers.append('Set-Cookie', serialize(cookieName(base, meta.secure), value, { httpOnly: true, sameSite, path: '/', secure: meta.secure, maxAge }));
  };
}

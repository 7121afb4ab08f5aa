import { parse, serialize } from 'cookie';
import type { Clock } from '../clock.ts';
import type { RequestMeta, SessionCookies } from '../context.ts';

const SESSION = 'vigil_session';
const DEVICE = 'vigil_device';
const DEVICE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60;

/** Headers a response may still take (cookies, the rotated token of a bearer client). */
export interface ResponseHeaders {
  append(name: string, value: string): void;
}

/** Over TLS the __Host- prefix pins the cookie to this host, path / and Secure. */
const cookieName = (base: string, secure: boolean) => (secure ? `__Host-${base}` : base);

export function readCookies(header: string | undefined, secure: boolean): { session: string | null; device: string | null } {
  const jar = header ? parse(header) : {};
  return { session: jar[cookieName(SESSION, secure)] ?? null, device: jar[cookieName(DEVICE, secure)] ?? null };
}

/** The one writer of Vigil's cookies: HttpOnly, SameSite=Lax, path /, Secure and __Host- over TLS. */
export function sessionCookies(headers: ResponseHeaders, meta: RequestMeta, clock: Clock): SessionCookies {
  const write = (base: string, value: string, maxAgeSeconds: number) =>
    headers.append('Set-Cookie', serialize(cookieName(base, meta.secure), value, { httpOnly: true, sameSite: 'lax', path: '/', secure: meta.secure, maxAge: maxAgeSeconds }));
  return {
    setSession: (token, expiresAt) => write(SESSION, token, Math.max(1, Math.floor((expiresAt.getTime() - clock.now().getTime()) / 1000))),
    clearSession: () => write(SESSION, '', 0),
    setDevice: (token) => write(DEVICE, token, DEVICE_MAX_AGE_SECONDS),
  };
}

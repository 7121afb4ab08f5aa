import { parse, serialize } from 'cookie';
import type { RequestMeta, ResponseHeaders } from '../context.ts';

const SESSION = 'vigil_session';
const DEVICE = 'vigil_device';
const DEVICE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60;

/** Over TLS the __Host- prefix pins the cookie to this host, path / and Secure. */
const cookieName = (base: string, secure: boolean) => (secure ? `__Host-${base}` : base);

export function readCookies(header: string | undefined, secure: boolean): { session: string | null; device: string | null } {
  const jar = header ? parse(header) : {};
  return { session: jar[cookieName(SESSION, secure)] ?? null, device: jar[cookieName(DEVICE, secure)] ?? null };
}

function write(headers: ResponseHeaders, base: string, value: string, secure: boolean, maxAgeSeconds: number): void {
  headers.append(
    'Set-Cookie',
    serialize(cookieName(base, secure), value, { httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge: maxAgeSeconds }),
  );
}

export function setSessionCookie(headers: ResponseHeaders | null, meta: RequestMeta, token: string, maxAgeSeconds: number): void {
  if (headers) write(headers, SESSION, token, meta.secure, Math.max(1, Math.floor(maxAgeSeconds)));
}

export function clearSessionCookie(headers: ResponseHeaders | null, meta: RequestMeta): void {
  if (headers) write(headers, SESSION, '', meta.secure, 0);
}

export function setDeviceCookie(headers: ResponseHeaders | null, meta: RequestMeta, token: string): void {
  if (headers) write(headers, DEVICE, token, meta.secure, DEVICE_MAX_AGE_SECONDS);
}

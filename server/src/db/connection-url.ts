import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity } from 'node:tls';
import { ConfigError } from '../config-error.ts';

/** How Vigil reaches a PostgreSQL server, decided by Vigil rather than by a driver's reading of the URL. */
export interface PostgresTarget {
  /** The URL without its TLS parameters (MikroORM reads only host, port, user, password and database). */
  readonly clientUrl: string;
  readonly transport: 'socket' | 'tls' | 'plain';
  /** node-postgres' `ssl` option. */
  readonly ssl: false | ConnectionOptions;
}

const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'sslpassword', 'sslcompression', 'uselibpqcompat'];

/**
 * Only two modes, both explicit: `verify-full` (TLS, the certificate checked against the CA and the host
 * name) and `disable`. node-postgres reads `require`, `prefer` and `verify-ca` as verify-full today and
 * will switch to libpq's weaker meanings; a security product should not inherit either silently.
 */
type SslMode = 'verify-full' | 'disable';

/** A problem with the URL's TLS settings, as one line, or null. */
export function postgresUrlProblem(variable: string, url: string): string | null {
  const params = new URL(url).searchParams;
  const mode = params.get('sslmode');
  if (params.has('ssl')) return `${variable}: the "ssl" parameter is ambiguous; use sslmode=verify-full (or sslmode=disable for a local server)`;
  if (mode !== null && mode !== 'verify-full' && mode !== 'disable') {
    return `${variable}: sslmode=${mode} is not supported; use sslmode=verify-full (TLS with the server's certificate checked against sslrootcert or DATABASE_CA_FILE) or sslmode=disable`;
  }
  if (mode === 'disable' && (params.has('sslrootcert') || params.has('sslcert'))) return `${variable}: sslmode=disable with certificates; use sslmode=verify-full`;
  return null;
}

/**
 * True when nothing on the way to the server travels in clear over a network: TLS verified end to end, or
 * a unix socket or loopback address (the same host, as a sidecar is).
 */
export function postgresUrlIsPrivate(url: string): boolean {
  const parsed = new URL(url);
  return isSocket(parsed) || isLoopback(parsed.hostname) || parsed.searchParams.get('sslmode') === 'verify-full';
}

export function isLoopback(hostname: string): boolean {
  const host = decodeURIComponent(hostname).replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The connection settings for a URL; certificate files are read now, so a missing one fails at start. */
export function postgresTarget(variable: string, url: string, caFile?: string): PostgresTarget {
  const problem = postgresUrlProblem(variable, url);
  if (problem) throw new ConfigError(problem);
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const mode: SslMode = params.get('sslmode') === 'verify-full' ? 'verify-full' : 'disable';
  const stripped = new URL(url);
  for (const name of TLS_PARAMETERS) stripped.searchParams.delete(name);
  if (isSocket(parsed)) return { clientUrl: stripped.toString(), transport: 'socket', ssl: false };
  if (mode === 'disable') return { clientUrl: stripped.toString(), transport: 'plain', ssl: false };
  const host = decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, '');
  const ca = params.get('sslrootcert') ?? caFile;
  const ssl: ConnectionOptions = {
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ...(isIP(host) ? {} : { servername: host }),
    // node-postgres hands tls.connect no host, so Node would check the certificate against "localhost".
    checkServerIdentity: (_name, certificate) => checkServerIdentity(host, certificate),
    ...(ca ? { ca: readCertificate(variable, 'CA', ca) } : {}),
    ...(params.get('sslcert') ? { cert: readCertificate(variable, 'client certificate', params.get('sslcert')!) } : {}),
    ...(params.get('sslkey') ? { key: readCertificate(variable, 'client key', params.get('sslkey')!) } : {}),
  };
  return { clientUrl: stripped.toString(), transport: 'tls', ssl };
}

/** `postgres://user@%2Fvar%2Frun%2Fpostgresql/db`: the host is the socket's directory. */
function isSocket(url: URL): boolean {
  return decodeURIComponent(url.hostname).startsWith('/');
}

function readCertificate(variable: string, what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`${variable}: cannot read the ${what} file ${path}`);
  }
}

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity } from 'node:tls';
import { ConfigError } from '../config-error.ts';

/** One server of a URL's host list, and how Vigil reaches it. */
export interface PostgresServer {
  /** The URL with this one host and without its TLS parameters (MikroORM reads only host, port, user, password and database). */
  readonly clientUrl: string;
  readonly transport: 'socket' | 'tls' | 'plain';
  /** node-postgres' `ssl` option: per host, since the certificate is checked against that host's name. */
  readonly ssl: false | ConnectionOptions;
  /** node-postgres' `host` (a socket's directory for a unix socket) and `port`. */
  readonly host: string;
  readonly port: number;
}

/**
 * How Vigil reaches PostgreSQL, decided by Vigil rather than by a driver's reading of the URL: the first
 * server's settings, and every server of a libpq-style host list (`host1:5432,host2:5433`), in order. One
 * server for a single-host URL.
 */
export interface PostgresTarget extends PostgresServer {
  readonly servers: readonly PostgresServer[];
}

const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'sslpassword', 'sslcompression', 'uselibpqcompat'];

/**
 * Only two modes, both explicit: `verify-full` (TLS, the certificate checked against the CA and the host
 * name) and `disable`. node-postgres reads `require`, `prefer` and `verify-ca` as verify-full today and
 * will switch to libpq's weaker meanings; a security product should not inherit either silently.
 */
type SslMode = 'verify-full' | 'disable';

/**
 * The URL once per host of its list, each with the same user, database and parameters. WHATWG's URL
 * refuses `h1:5432,h2:5433` (the port is not a number), so the list is cut out of the authority first.
 * A single-host URL comes back as it is.
 */
export function postgresHostUrls(url: string): string[] {
  const start = url.indexOf('://') + 3;
  if (start < 3) return [url];
  const end = url.slice(start).search(/[/?#]/);
  const authority = end < 0 ? url.slice(start) : url.slice(start, start + end);
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  if (!hosts.includes(',')) return [url];
  const before = url.slice(0, start + authority.length - hosts.length);
  const after = url.slice(start + authority.length);
  return hosts.split(',').map((host) => before + host + after);
}

/** True when every host of the list makes a URL (an empty host, `h1,,h2`, does not). */
export function postgresUrlParses(url: string): boolean {
  return postgresHostUrls(url).every((one) => URL.canParse(one) && new URL(one).hostname !== '');
}

/** A problem with the URL's TLS settings, as one line, or null. */
export function postgresUrlProblem(variable: string, url: string): string | null {
  const params = new URL(postgresHostUrls(url)[0]).searchParams;
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
  return postgresHostUrls(url).every((one) => {
    const parsed = new URL(one);
    return isSocket(parsed) || isLoopback(parsed.hostname) || parsed.searchParams.get('sslmode') === 'verify-full';
  });
}

export function isLoopback(hostname: string): boolean {
  const host = decodeURIComponent(hostname).replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The connection settings for a URL, per host of its list; certificate files are read now, so a missing one fails at start. */
export function postgresTarget(variable: string, url: string, caFile?: string): PostgresTarget {
  const problem = postgresUrlProblem(variable, url);
  if (problem) throw new ConfigError(problem);
  const servers = postgresHostUrls(url).map((one) => postgresServer(variable, one, caFile));
  // One transport for the list: readiness judges "TLS when configured" once for whichever host is the primary.
  if (servers.some((server) => server.transport !== servers[0].transport)) throw new ConfigError(`${variable}: the hosts of the list must all be unix sockets, or all TCP`);
  return { ...servers[0], servers };
}

function postgresServer(variable: string, url: string, caFile?: string): PostgresServer {
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const mode: SslMode = params.get('sslmode') === 'verify-full' ? 'verify-full' : 'disable';
  const stripped = new URL(url);
  for (const name of TLS_PARAMETERS) stripped.searchParams.delete(name);
  const host = decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, '');
  const at = { clientUrl: stripped.toString(), host, port: Number(parsed.port) || 5432 };
  if (isSocket(parsed)) return { ...at, transport: 'socket', ssl: false };
  if (mode === 'disable') return { ...at, transport: 'plain', ssl: false };
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
  return { ...at, transport: 'tls', ssl };
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

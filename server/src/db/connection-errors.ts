import { ConfigError } from '../config-error.ts';
import type { PostgresServer } from './connection-url.ts';

interface DriverError {
  code?: string;
  message?: string;
}

const CERTIFICATE_NOT_TRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

/**
 * A failure to reach or use PostgreSQL at start, as the one line an operator can act on; errors that
 * are not about the connection (a refusal from the role audit, a failing migration) pass through.
 */
export function postgresConnectionFailure(variable: string, target: PostgresServer, error: unknown): unknown {
  if (error instanceof ConfigError) return error;
  const e = (error ?? {}) as DriverError;
  const url = new URL(target.clientUrl);
  const where = `${variable} (${decodeURIComponent(url.hostname)}${url.port ? `:${url.port}` : ''})`;
  const line = describe(e, target, decodeURIComponent(url.hostname));
  return line ? new ConfigError(`Refusing to start: PostgreSQL at ${where}: ${line}.`) : error;
}

function describe(e: DriverError, target: PostgresServer, host: string): string | null {
  const message = e.message ?? '';
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is not valid for the name ${host} (${e.code}); connect by a name the certificate holds`;
  if (e.code && CERTIFICATE_NOT_TRUSTED.has(e.code)) return `the server's certificate is not signed by a trusted CA (${e.code}); name the CA with sslrootcert=<file> or DATABASE_CA_FILE`;
  if (e.code === 'CERT_HAS_EXPIRED') return `the server's certificate has expired (${e.code})`;
  if (/does not support SSL/i.test(message)) return 'the server does not accept TLS; turn ssl on in postgresql.conf, or use sslmode=disable only on a trusted local network';
  if (e.code === '28000' && /no encryption/i.test(message)) return 'the server accepts TLS connections only; add sslmode=verify-full to the URL';
  if (e.code === '28000' || e.code === '28P01') return `authentication failed (${e.code}); check the user and password`;
  if (e.code === '3D000') return `the database does not exist and could not be created (${e.code})`;
  if (e.code === '42501' && /create role|permission denied to grant role/i.test(message)) return `${message}; the owner needs CREATEROLE (a managed server's master user has it)`;
  if (e.code && UNREACHABLE.has(e.code)) return `cannot reach the server (${e.code})${target.transport === 'tls' ? ' over TLS' : ''}`;
  if (/self[- ]signed|certificate/i.test(message)) return `TLS failed: ${message}`;
  return null;
}

/** A pooled connection reached a standby where it looked for the primary (db/primary.ts): a failover under way. */
export const NOT_PRIMARY = 'VIGIL_NOT_PRIMARY';

/** Codes and messages of a database that is not there right now (stopped, restarting, failing over, full). */
const UNAVAILABLE_CODES = new Set([
  ...UNREACHABLE,
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
  NOT_PRIMARY,
]);
const UNAVAILABLE_MESSAGES = /Connection terminated|connection error|timeout exceeded when trying to connect|Connection is closed|the database system is (starting up|shutting down)/i;

/** True when an error (or what it wraps) says the database is unreachable, not that the request was wrong. */
export function databaseUnavailable(error: unknown): boolean {
  return causes(error).some((e) => (e.code && UNAVAILABLE_CODES.has(e.code)) || UNAVAILABLE_MESSAGES.test(e.message ?? ''));
}

/** True when PostgreSQL cancelled a statement that ran past statement_timeout (57014, query_canceled). */
/** A write in a read-only transaction (a support session's): 25006. */
export function readOnlyTransaction(error: unknown): boolean {
  return causes(error).some((e) => e.code === '25006');
}

export function statementTimedOut(error: unknown): boolean {
  return causes(error).some((e) => e.code === '57014');
}

/** The error and what it wraps (GraphQL's originalError, MikroORM's and Node's cause), a few levels deep. */
function causes(error: unknown): DriverError[] {
  const chain: DriverError[] = [];
  for (let e = error as (DriverError & { cause?: unknown; originalError?: unknown }) | undefined; e && chain.length < 5; ) {
    chain.push(e);
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return chain;
}

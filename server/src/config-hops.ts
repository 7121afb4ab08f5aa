import { isLoopback, postgresUrlIsPrivate, postgresUrlProblem } from './db/connection-url.ts';

/** What decides whether each hop of a deployment is encrypted. */
export interface Hops {
  readonly production: boolean;
  readonly tls?: unknown;
  readonly proxyTerminatesTls: boolean;
  readonly databaseUrl?: string;
  readonly appDatabaseUrl?: string;
  readonly redisUrl?: string;
  readonly redisCaFile?: string;
  readonly smtpUrl?: string;
  readonly syslog?: { readonly url: string; readonly caFile?: string };
  /** pg_dump's and pg_restore's role, when not the owner's (backups/logical-copy.ts). */
  readonly backup?: { readonly databaseUrl?: string };
}

const REFUSE = 'Refusing to start in production:';

/**
 * Settings that cannot work, anywhere; and in production, any hop that would carry credentials or the
 * journal in clear over a network (the seeds promise that everything between the browser and the servers
 * is encrypted). The same host (a unix socket, a loopback address) is no network.
 */
export function encryptedHopProblems(hops: Hops): string[] {
  const problems: string[] = [];
  const databases = [['DATABASE_URL', hops.databaseUrl], ['APP_DATABASE_URL', hops.appDatabaseUrl], ['BACKUP_DATABASE_URL', hops.backup?.databaseUrl]] as const;
  for (const [variable, url] of databases) {
    const problem = url ? postgresUrlProblem(variable, url) : null;
    if (problem) problems.push(`Invalid configuration: ${problem}`);
  }
  const redisTls = hops.redisUrl ? new URL(hops.redisUrl).protocol === 'rediss:' : false;
  if (hops.redisCaFile && !redisTls) problems.push('Invalid configuration: REDIS_CA_FILE is set but REDIS_URL is not rediss://; use rediss://');
  const syslog = hops.syslog ? new URL(hops.syslog.url) : null;
  // The journal of every company goes this way: never in clear over a network, not even outside production.
  if (syslog && syslog.protocol === 'tcp:' && !isLoopback(syslog.hostname.replace(/^\[|\]$/g, ''))) {
    problems.push('Invalid configuration: SYSLOG_URL sends every journal in clear over a network; use tls://host:port (with SYSLOG_CA_FILE for a private CA)');
  }
  if (!hops.production) return problems;
  if (!hops.tls && !hops.proxyTerminatesTls) {
    problems.push(`${REFUSE} the HTTP hop is plain text; set TLS_CERT_FILE and TLS_KEY_FILE, or PROXY_TERMINATES_TLS=true with TRUSTED_PROXIES naming the proxies that end TLS`);
  }
  for (const [variable, url] of databases) {
    if (url && !postgresUrlIsPrivate(url)) {
      problems.push(`${REFUSE} the PostgreSQL hop (${variable}) is plain text over a network; add sslmode=verify-full (with sslrootcert=<CA file> or DATABASE_CA_FILE), or connect through a unix socket`);
    }
  }
  if (hops.redisUrl && !redisTls && !isLoopback(new URL(hops.redisUrl).hostname)) problems.push(`${REFUSE} the Redis hop (REDIS_URL) is plain text over a network; use rediss:// (with REDIS_CA_FILE for a private CA)`);
  const smtp = hops.smtpUrl ? smtpHopProblem(new URL(hops.smtpUrl)) : null;
  if (smtp) problems.push(`${REFUSE} ${smtp}`);
  return problems;
}

/** Mail carries the SMTP password and the notices: TLS from the first byte, or STARTTLS insisted on, with the certificate checked. */
function smtpHopProblem(url: URL): string | null {
  if (url.searchParams.get('tls.rejectUnauthorized') === 'false') return "the SMTP hop (SMTP_URL) does not check the server's certificate; drop tls.rejectUnauthorized=false";
  if (url.protocol === 'smtps:' || url.searchParams.get('requireTLS') === 'true' || isLoopback(url.hostname)) return null;
  return 'the SMTP hop (SMTP_URL) may fall back to plain text over a network; use smtps://, or smtp://…?requireTLS=true for STARTTLS';
}

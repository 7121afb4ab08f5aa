import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { FairUseRules } from './access/fair-use.ts';
import { ConfigError } from './config-error.ts';
import { encryptedHopProblems } from './config-hops.ts';
import { postgresHostUrls } from './db/connection-url.ts';

/** OWASP Password Storage floor for argon2id; configuration may only raise it. */
export const ARGON2_FLOOR = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const csv = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean));

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** `rate/burst`, e.g. `20/200`: a token bucket refilled at rate per second, holding at most burst. */
const bucket = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value.trim());
      if (!match || Number(match[1]) <= 0 || Number(match[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'use rate/burst, e.g. 20/200' });
        return z.NEVER;
      }
      return { ratePerSecond: Number(match[1]), burst: Number(match[2]) };
    });

/**
 * A PostgreSQL URL, or libpq's list of hosts (`postgres://user@h1:5432,h2:5433/db`: the primary is found
 * among them, db/primary.ts). Each host must make a URL on its own; a single host is judged as before.
 */
const postgresUrl = z
  .string()
  .optional()
  .refine((value) => value === undefined || postgresHostUrls(value).every((one) => z.url().safeParse(one).success), 'Invalid URL: use postgres://user@host[:port][,host2[:port]…]/database');

const flag = z.enum(['true', 'false', '1', '0']).optional().transform((value) => value === 'true' || value === '1');

/** smtp:// or smtps:// with a host; the message never repeats the value, which may hold the SMTP password. */
const smtpUrl = z
  .string()
  .optional()
  .refine((value) => {
    if (value === undefined) return true;
    try {
      const url = new URL(value);
      return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'use smtp://[user:password@]host[:port] (STARTTLS; add ?requireTLS=true to insist on it) or smtps://… (TLS from the first byte)');

/** `addr@domain` or `Name <addr@domain>`, on one line: it becomes the From header of every mail. */
const mailFrom = z
  .string()
  .optional()
  .refine((value) => value === undefined || /^(?:[^\r\n<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(value.trim()), 'use addr@domain or "Name <addr@domain>"');

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HTTP_REDIRECT_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  METRICS_TOKEN: z.string().min(32, 'METRICS_TOKEN: at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  DATABASE_URL: postgresUrl,
  APP_DATABASE_URL: postgresUrl,
  APP_DATABASE_PASSWORD: z.string().min(1).optional(),
  OPS_DATABASE_PASSWORD: z.string().min(1).optional(),
  DATABASE_CA_FILE: z.string().min(1).optional(),
  VIGIL_HOME: z.string().default('.vigil'),
  VIGIL_DATA_DIR: z.string().optional(),
  REDIS_URL: z.string().url().optional(),
  REDIS_CA_FILE: z.string().min(1).optional(),
  REDIS_CHANNEL_PREFIX: z.string().default('vigil'),
  TRUSTED_PROXIES: csv,
  PROXY_TERMINATES_TLS: flag,
  ALLOWED_ORIGINS: csv.refine((origins) => !origins.some((o) => o.toLowerCase() === 'null'), 'the opaque origin "null" is never allowed'),
  TLS_CERT_FILE: z.string().optional(),
  ENCRYPTION_KEYS: z.string().min(1).optional(),
  ENCRYPTION_KEYS_FILE: z.string().min(1).optional(),
  AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  AUDIT_VERIFY_KEYS_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_MIN_VERSION: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(ARGON2_FLOOR.memoryCost).default(ARGON2_FLOOR.memoryCost),
  ARGON2_TIME_COST: z.coerce.number().int().min(ARGON2_FLOOR.timeCost).default(ARGON2_FLOOR.timeCost),
  PASSWORD_HASH_CONCURRENCY: positiveInt(availableParallelism()),
  // Read by libuv when its threadpool starts (default 4); server/start.mjs sets it to the hashing cap.
  UV_THREADPOOL_SIZE: positiveInt(4),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: positiveInt(300),
  API_KEY_ROTATION_INTERVAL_SECONDS: positiveInt(3600),
  CRITICAL_OPERATIONS_INTERVAL_SECONDS: positiveInt(30),
  SMTP_URL: smtpUrl,
  MAIL_FROM: mailFrom,
  NOTIFICATIONS_INTERVAL_SECONDS: positiveInt(5),
  WEBHOOKS_INTERVAL_SECONDS: positiveInt(5),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: flag,
  SYSLOG_URL: z
    .string()
    .optional()
    .refine((value) => value === undefined || /^(tls|tcp):\/\/[^/]+:\d+\/?$/.test(value), 'SYSLOG_URL: tls://host:port (RFC 5425), or tcp://host:port to a relay on this host'),
  SYSLOG_CA_FILE: z.string().min(1).optional(),
  SIGN_UP: z.enum(['open', 'closed']).default('open'),
  WS_KEEPALIVE_SECONDS: positiveInt(12),
  ACCESS_CHANGE_POLL_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  FAIR_USE_SESSION: bucket('20/200'),
  FAIR_USE_API_KEY: bucket('50/500'),
  FAIR_USE_ADDRESS: bucket('100/1000'),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
  DASHBOARD_DIR: z.string().default('dashboard/dist'),
  BACKGROUND_JOBS: z.enum(['true', 'false']).default('true'),
  BACKUP_MODE: z.enum(['auto', 'pgbackrest', 'logical', 'off']).default('auto'),
  PGBACKREST_CONFIG: z.string().min(1).optional(),
  PGBACKREST_STANZA: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _').default('vigil'),
  BACKUP_RUN_AS: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'an OS user name').optional(),
  PG_BIN_DIR: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  BACKUP_DATABASE_URL: z.string().min(1).optional(),
  BACKUP_DIR: z.string().min(1).optional(),
  BACKUP_PASSPHRASE_FILE: z.string().min(1).optional(),
  BACKUP_INTERVAL_HOURS: z.coerce.number().positive().default(24),
  BACKUP_DRILL_INTERVAL_HOURS: z.coerce.number().positive().default(24),
  BACKUP_RETENTION_DAYS: positiveInt(14),
  OFFSITE_S3_URL: z.url({ protocol: /^https$/, error: 'an https:// URL: https://<endpoint>/<bucket>[/<prefix>]' }).optional(),
  OFFSITE_S3_REGION: z.string().min(1).default('us-east-1'),
  OFFSITE_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  OFFSITE_S3_SECRET_KEY_FILE: z.string().min(1).optional(),
  OFFSITE_S3_CA_FILE: z.string().min(1).optional(),
  OFFSITE_S3_LOCK_DAYS: z.coerce.number().int().min(0).default(0),
});

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface KeySettings {
  /** `<id>:<32 bytes base64>[,…]`: the first encrypts, every one decrypts (rotation). ENCRYPTION_KEYS, or the file ENCRYPTION_KEYS_FILE. */
  readonly encryptionKeys?: string;
  readonly encryptionKeysFile?: string;
  /** The Ed25519 key (PKCS#8 PEM) that signs checkpoints and purge receipts now. */
  readonly signingKeyFile?: string;
  /** Public keys (PEM, one after another) of signing keys retired by a rotation: what they signed still verifies. */
  readonly verifyKeysFile?: string;
}

export interface BackupSettings {
  /**
   * `auto`: the embedded database copies itself; a PostgreSQL server is backed up by pgBackRest when
   * PGBACKREST_CONFIG is set (or its archive_command is pgBackRest's), otherwise (a managed service) by a
   * daily logical copy; `pgbackrest` and `logical` say which; `off`: no schedule (the commands still work).
   */
  readonly mode: 'auto' | 'pgbackrest' | 'logical' | 'off';
  /** The pgbackrest.conf of the server's stanza (repo1 external S3, repo2 local; see README "Backups and failover"). */
  readonly pgbackrestConfig?: string;
  readonly pgbackrestStanza: string;
  /** The OS user pgBackRest and the PostgreSQL tools run as (the data directory's owner), when not Vigil's own. */
  readonly runAs?: string;
  /** pg_ctl, pg_dump and pg_restore: the drill starts restored copies with them. */
  readonly pgBinDir: string;
  /** The role the logical copy dumps and restores as (one that sees every row); DATABASE_URL when absent. */
  readonly databaseUrl?: string;
  /** Where the embedded database's copies and the logical copies go. */
  readonly dir: string;
  /** The passphrase the copies are encrypted with, kept apart from the database and the copies; generated in secretsDir when absent. */
  readonly passphraseFile?: string;
  readonly intervalHours: number;
  readonly drillIntervalHours: number;
  /** Copies older than this are deleted after a new one is written; the latest is always kept. */
  readonly retentionDays: number;
}

export interface Config {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** A plain HTTP listener that only redirects to HTTPS (308); needs `tls`. */
  readonly httpRedirectPort?: number;
  /** /metrics (metrics/): on a listener of its own at this port, else on the main one; behind the token when set. */
  readonly metrics: { readonly port?: number; readonly token?: string };
  /** Owner connection: runs migrations. Absent means the embedded PostgreSQL (PGlite). */
  readonly databaseUrl?: string;
  /** Login of the application role, which row-level security applies to. */
  readonly appDatabaseUrl?: string;
  readonly appDatabasePassword?: string;
  /** The password the owner gives vigil_ops, the operators' role, when the server asks for one. */
  readonly opsDatabasePassword?: string;
  /** CA that signs the PostgreSQL server's certificate (sslmode=verify-full), unless the URL names one (sslrootcert). */
  readonly databaseCaFile?: string;
  readonly dataDir: string;
  readonly secretsDir: string;
  /**
   * The server's keys from settings, the same for every instance (server-keys.ts); what is absent is read
   * from (or generated once in) secretsDir, the embedded default's convenience.
   */
  readonly keySettings: KeySettings;
  readonly checkpointsDir: string;
  readonly redisUrl?: string;
  /** CA that signs the Redis server's certificate (rediss://). */
  readonly redisCaFile?: string;
  readonly redisChannelPrefix: string;
  readonly trustedProxies: readonly string[];
  /** TLS ends at the trusted proxies, which say so in X-Forwarded-Proto. */
  readonly proxyTerminatesTls: boolean;
  /** Origins allowed to open WebSockets and make credentialed cross-origin calls; empty means this server's own. */
  readonly allowedOrigins: readonly string[];
  readonly tls?: TlsConfig;
  readonly logLevel: string;
  readonly passwordHash: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
  readonly passwordHashConcurrency: number;
  /** libuv's threadpool, where argon2 runs. */
  readonly threadpoolSize: number;
  readonly auditCheckpointIntervalSeconds: number;
  readonly apiKeyRotationIntervalSeconds: number;
  /** How often an instance executes (or expires) the critical operations whose time has come. */
  readonly criticalOperationsIntervalSeconds: number;
  /** The SMTP server notifications are mailed through (nodemailer's URL form); absent: no e-mail, journal and dashboard only. */
  readonly smtpUrl?: string;
  /** The From of every notification; set whenever smtpUrl is. */
  readonly mailFrom?: string;
  /** How often an instance looks for journal events to mail (it also wakes when one is published). */
  readonly notificationsIntervalSeconds: number;
  /** Webhooks: the deliverer's tick, a delivery's time limit, and whether loopback and private addresses may be receivers (SSRF). */
  readonly webhooks: { intervalSeconds: number; timeoutMs: number; allowPrivateNetworks: boolean };
  /** Whether anyone may create a company (signUp); closed: the operator creates them. */
  readonly signUpOpen: boolean;
  /** The operator-wide syslog stream of every journal (syslog/), when set. */
  readonly syslog?: { url: string; caFile?: string };
  /** WebSockets are pinged this often; a peer that missed the previous ping is dropped. */
  readonly wsKeepAliveSeconds: number;
  /** How often an instance reads the access changes of its sockets' tenants from PostgreSQL (0: never). */
  readonly accessChangePollMs: number;
  /** Operations allowed per session, API key and client address (token buckets shared through Redis). */
  readonly fairUse: FairUseRules;
  /** The application's statements are cancelled past this (0: never); migrations are not. */
  readonly statementTimeoutMs: number;
  readonly dashboardDir: string;
  /** False on a Vigil the restore drill starts on a restored copy: it must not back up, mail or sign checkpoints. */
  readonly backgroundJobs: boolean;
  readonly backup: BackupSettings;
  /** The external (in production versioned, object-locked) bucket copies and checkpoints also go to; absent: none. */
  readonly offsite?: OffsiteSettings;
}

export interface OffsiteSettings {
  /** https://<endpoint>/<bucket>[/<prefix>], path-style. */
  readonly url: string;
  readonly region: string;
  readonly accessKeyId?: string;
  /** The secret access key, in a file (a mounted secret), never in the environment's listing. */
  readonly secretKeyFile?: string;
  readonly caFile?: string;
  /** Object Lock retention (compliance mode) put on every object; 0: the bucket's default. */
  readonly lockDays: number;
}

/** The only reader of process.env: everything else receives a frozen Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE go together');
  }
  if (e.HTTP_REDIRECT_PORT !== undefined && !e.TLS_CERT_FILE) {
    throw new ConfigError('Invalid configuration: HTTP_REDIRECT_PORT redirects to HTTPS, so it needs TLS_CERT_FILE and TLS_KEY_FILE');
  }
  if (e.ENCRYPTION_KEYS && e.ENCRYPTION_KEYS_FILE) {
    throw new ConfigError('Invalid configuration: ENCRYPTION_KEYS and ENCRYPTION_KEYS_FILE are two ways to say the same: set one');
  }
  if (e.SMTP_URL && !e.MAIL_FROM) {
    throw new ConfigError('Invalid configuration: SMTP_URL needs MAIL_FROM, the address notifications are sent from (e.g. "Vigil <security@example.com>")');
  }
  if (e.PROXY_TERMINATES_TLS && !e.TRUSTED_PROXIES.length) {
    throw new ConfigError('Invalid configuration: PROXY_TERMINATES_TLS needs TRUSTED_PROXIES, the proxies whose X-Forwarded-Proto counts');
  }
  const home = resolve(e.VIGIL_HOME);
  const config: Config = Object.freeze({
    production: e.NODE_ENV === 'production',
    host: e.HOST,
    port: e.PORT,
    httpRedirectPort: e.HTTP_REDIRECT_PORT,
    metrics: Object.freeze({ port: e.METRICS_PORT, token: e.METRICS_TOKEN }),
    databaseUrl: e.DATABASE_URL,
    appDatabaseUrl: e.APP_DATABASE_URL,
    appDatabasePassword: e.APP_DATABASE_PASSWORD,
    opsDatabasePassword: e.OPS_DATABASE_PASSWORD,
    databaseCaFile: e.DATABASE_CA_FILE,
    dataDir: resolve(e.VIGIL_DATA_DIR ?? `${home}/data`),
    secretsDir: `${home}/secrets`,
    keySettings: Object.freeze({
      encryptionKeys: e.ENCRYPTION_KEYS,
      encryptionKeysFile: e.ENCRYPTION_KEYS_FILE,
      signingKeyFile: e.AUDIT_SIGNING_KEY_FILE,
      verifyKeysFile: e.AUDIT_VERIFY_KEYS_FILE,
    }),
    checkpointsDir: `${home}/checkpoints`,
    redisUrl: e.REDIS_URL,
    redisCaFile: e.REDIS_CA_FILE,
    redisChannelPrefix: e.REDIS_CHANNEL_PREFIX,
    trustedProxies: Object.freeze(e.TRUSTED_PROXIES),
    proxyTerminatesTls: e.PROXY_TERMINATES_TLS,
    allowedOrigins: Object.freeze(e.ALLOWED_ORIGINS),
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? Object.freeze({ certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE, minVersion: e.TLS_MIN_VERSION }) : undefined,
    logLevel: e.LOG_LEVEL,
    passwordHash: Object.freeze({ memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: 1 }),
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
    threadpoolSize: e.UV_THREADPOOL_SIZE,
    auditCheckpointIntervalSeconds: e.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
    apiKeyRotationIntervalSeconds: e.API_KEY_ROTATION_INTERVAL_SECONDS,
    criticalOperationsIntervalSeconds: e.CRITICAL_OPERATIONS_INTERVAL_SECONDS,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM?.trim(),
    notificationsIntervalSeconds: e.NOTIFICATIONS_INTERVAL_SECONDS,
    webhooks: { intervalSeconds: e.WEBHOOKS_INTERVAL_SECONDS, timeoutMs: e.WEBHOOK_TIMEOUT_MS, allowPrivateNetworks: e.WEBHOOKS_ALLOW_PRIVATE_NETWORKS },
    signUpOpen: e.SIGN_UP === 'open',
    syslog: e.SYSLOG_URL ? { url: e.SYSLOG_URL, caFile: e.SYSLOG_CA_FILE } : undefined,
    wsKeepAliveSeconds: e.WS_KEEPALIVE_SECONDS,
    accessChangePollMs: e.ACCESS_CHANGE_POLL_MS,
    fairUse: Object.freeze({ session: e.FAIR_USE_SESSION, apiKey: e.FAIR_USE_API_KEY, address: e.FAIR_USE_ADDRESS }),
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    dashboardDir: resolve(e.DASHBOARD_DIR),
    backgroundJobs: e.BACKGROUND_JOBS === 'true',
    backup: Object.freeze({
      mode: e.BACKUP_MODE,
      pgbackrestConfig: e.PGBACKREST_CONFIG ? resolve(e.PGBACKREST_CONFIG) : undefined,
      pgbackrestStanza: e.PGBACKREST_STANZA,
      runAs: e.BACKUP_RUN_AS,
      pgBinDir: e.PG_BIN_DIR,
      databaseUrl: e.BACKUP_DATABASE_URL,
      dir: resolve(e.BACKUP_DIR ?? `${home}/backups`),
      passphraseFile: e.BACKUP_PASSPHRASE_FILE,
      intervalHours: e.BACKUP_INTERVAL_HOURS,
      drillIntervalHours: e.BACKUP_DRILL_INTERVAL_HOURS,
      retentionDays: e.BACKUP_RETENTION_DAYS,
    }),
    offsite: e.OFFSITE_S3_URL
      ? Object.freeze({
          url: e.OFFSITE_S3_URL,
          region: e.OFFSITE_S3_REGION,
          accessKeyId: e.OFFSITE_S3_ACCESS_KEY_ID,
          secretKeyFile: e.OFFSITE_S3_SECRET_KEY_FILE,
          caFile: e.OFFSITE_S3_CA_FILE,
          lockDays: e.OFFSITE_S3_LOCK_DAYS,
        })
      : undefined,
  });
  if (e.OFFSITE_S3_URL && Boolean(e.OFFSITE_S3_ACCESS_KEY_ID) !== Boolean(e.OFFSITE_S3_SECRET_KEY_FILE)) {
    throw new ConfigError('Invalid configuration: OFFSITE_S3_ACCESS_KEY_ID and OFFSITE_S3_SECRET_KEY_FILE go together (or neither: the SDK\'s own credentials, e.g. an instance role)');
  }
  const [problem] = encryptedHopProblems(config);
  if (problem) throw new ConfigError(problem);
  return config;
}

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/** OWASP Password Storage floor for argon2id; configuration may only raise it. */
export const ARGON2_FLOOR = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const csv = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean));

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  DATABASE_URL: z.string().url().optional(),
  APP_DATABASE_URL: z.string().url().optional(),
  APP_DATABASE_PASSWORD: z.string().min(1).optional(),
  VIGIL_HOME: z.string().default('.vigil'),
  VIGIL_DATA_DIR: z.string().optional(),
  REDIS_URL: z.string().url().optional(),
  REDIS_CHANNEL_PREFIX: z.string().default('vigil'),
  TRUSTED_PROXIES: csv,
  ALLOWED_ORIGINS: csv,
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(ARGON2_FLOOR.memoryCost).default(ARGON2_FLOOR.memoryCost),
  ARGON2_TIME_COST: z.coerce.number().int().min(ARGON2_FLOOR.timeCost).default(ARGON2_FLOOR.timeCost),
  PASSWORD_HASH_CONCURRENCY: positiveInt(availableParallelism()),
  // Read by libuv when its threadpool starts (default 4); server/start.mjs sets it to the hashing cap.
  UV_THREADPOOL_SIZE: positiveInt(4),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: positiveInt(300),
  API_KEY_ROTATION_INTERVAL_SECONDS: positiveInt(3600),
  WS_KEEPALIVE_SECONDS: positiveInt(12),
  DASHBOARD_DIR: z.string().default('dashboard/dist'),
});

export interface Config {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** Owner connection: runs migrations. Absent means the embedded PostgreSQL (PGlite). */
  readonly databaseUrl?: string;
  /** Login of the application role, which row-level security applies to. */
  readonly appDatabaseUrl?: string;
  readonly appDatabasePassword?: string;
  readonly dataDir: string;
  readonly secretsDir: string;
  readonly checkpointsDir: string;
  readonly redisUrl?: string;
  readonly redisChannelPrefix: string;
  readonly trustedProxies: readonly string[];
  /** Origins allowed to open WebSockets and make credentialed cross-origin calls; empty means this server's own. */
  readonly allowedOrigins: readonly string[];
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly logLevel: string;
  readonly passwordHash: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
  readonly passwordHashConcurrency: number;
  /** libuv's threadpool, where argon2 runs. */
  readonly threadpoolSize: number;
  readonly auditCheckpointIntervalSeconds: number;
  readonly apiKeyRotationIntervalSeconds: number;
  /** WebSockets are pinged this often; a peer that missed the previous ping is dropped. */
  readonly wsKeepAliveSeconds: number;
  readonly dashboardDir: string;
}

export class ConfigError extends Error {}

/** The only reader of process.env: everything else receives a frozen Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE go together');
  }
  const home = resolve(e.VIGIL_HOME);
  return Object.freeze({
    production: e.NODE_ENV === 'production',
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    appDatabaseUrl: e.APP_DATABASE_URL,
    appDatabasePassword: e.APP_DATABASE_PASSWORD,
    dataDir: resolve(e.VIGIL_DATA_DIR ?? `${home}/data`),
    secretsDir: `${home}/secrets`,
    checkpointsDir: `${home}/checkpoints`,
    redisUrl: e.REDIS_URL,
    redisChannelPrefix: e.REDIS_CHANNEL_PREFIX,
    trustedProxies: Object.freeze(e.TRUSTED_PROXIES),
    allowedOrigins: Object.freeze(e.ALLOWED_ORIGINS),
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    logLevel: e.LOG_LEVEL,
    passwordHash: Object.freeze({ memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: 1 }),
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
    threadpoolSize: e.UV_THREADPOOL_SIZE,
    auditCheckpointIntervalSeconds: e.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
    apiKeyRotationIntervalSeconds: e.API_KEY_ROTATION_INTERVAL_SECONDS,
    wsKeepAliveSeconds: e.WS_KEEPALIVE_SECONDS,
    dashboardDir: resolve(e.DASHBOARD_DIR),
  });
}

import type { ServerResponse } from 'node:http';
import { migrationsList } from '../db/migrations/index.ts';
import type { Services } from '../services.ts';
import { sendJson } from './respond.ts';

/** A check that has not answered within this long counts as failing: /readyz must answer, not hang. */
const CHECK_TIMEOUT_MS = 2000;

const EXPECTED_MIGRATIONS = migrationsList.map((migration) => migration.name);

type Check = 'database' | 'migrations' | 'checkpointKey';
/** What an instance serves without, more slowly (Redis carries live events faster; PostgreSQL stands in). */
type Accelerator = 'redis';

/** Liveness: the process and its event loop answer. Nothing else, so a database outage never restarts it. */
export function livez(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/**
 * Readiness: the write pool reaches a primary (over TLS when configured), the migrations this code needs
 * are applied, the checkpoint signing key is loaded. Redis, where configured, only degrades: without it
 * the instance still serves (a 503 would make a load balancer drain every instance at once). The answer
 * names the checks and nothing else: no message, no host, nothing an outsider could map the deployment by.
 */
export async function readyz(services: Services, res: ServerResponse): Promise<void> {
  const [database, degraded] = await Promise.all([databaseChecks(services), redisCheck(services)]);
  const failing = [...database, ...keyCheck(services)];
  const extra = degraded.length ? { degraded } : {};
  if (failing.length) return sendJson(res, 503, { status: 'unavailable', failing, ...extra });
  sendJson(res, 200, degraded.length ? { status: 'degraded', degraded } : { status: 'ok' });
}

interface DatabaseFacts {
  replica: boolean;
  ssl: boolean;
  migrations: string[] | null;
}

async function databaseChecks(services: Services): Promise<Check[]> {
  // A failover being found (a host list, db/primary.ts): the pool's connections may still reach the old server.
  if (services.db.switchingPrimary()) return ['database'];
  const facts = await withinTimeout(
    services.db.prepared<DatabaseFacts>(
      'vigil_readiness',
      `select pg_is_in_recovery() as replica,
         coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl,
         (select array_agg(name::text) from mikro_orm_migrations) as migrations`,
      [],
    ),
  );
  const row = facts?.[0];
  // Unreachable: the migrations cannot be judged, so only the database is named.
  if (!row) return ['database'];
  const failing: Check[] = [];
  if (row.replica || (services.db.transport === 'tls' && !row.ssl)) failing.push('database');
  const applied = new Set(row.migrations ?? []);
  if (EXPECTED_MIGRATIONS.some((name) => !applied.has(name))) failing.push('migrations');
  return failing;
}

async function redisCheck(services: Services): Promise<Accelerator[]> {
  if (!services.config.redisUrl) return [];
  return (await withinTimeout(services.bus.ping())) ? [] : ['redis'];
}

function keyCheck(services: Services): Check[] {
  return services.keys.auditSigningKey.asymmetricKeyType === 'ed25519' ? [] : ['checkpointKey'];
}

/** The value, or null when it failed or took longer than the check may. */
async function withinTimeout<T>(work: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([work.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

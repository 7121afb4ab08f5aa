import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeySet } from '../../server/src/server-keys.ts';
import { type ChildServer, freePort, startChildServer } from './child-server.ts';
import type { BenchDatabase } from './database.ts';

/** Server settings a benchmark's load depends on; anything else in the caller's environment is left out. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'UV_THREADPOOL_SIZE', 'NODE_OPTIONS'];

/**
 * Vigil as in production (server/start.mjs) in a child process, on its own database and home.
 * The argon2 parameters are left at their floor, which is what the sign-in baseline hashes with.
 */
export async function startVigil(database: BenchDatabase, passwordHashConcurrency: number, extra: Record<string, string> = {}): Promise<ChildServer> {
  // Silent unless asked: logging every request would be part of what we measure.
  const logLevel = process.env.BENCH_VIGIL_LOG_LEVEL ?? 'silent';
  const home = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(INHERITED.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]])),
    // As deployed: no GraphiQL, introspection off.
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    // As behind a reverse proxy that ends TLS: it says https in X-Forwarded-Proto, and sign-in loads name
    // their client in X-Forwarded-For (see sign-in.ts). The database is on the same host (no network hop).
    TRUSTED_PROXIES: '127.0.0.1',
    PROXY_TERMINATES_TLS: 'true',
    // Load generators are one client each far beyond a person's pace: the budgets are still taken (and
    // cost what they cost), but never refuse.
    FAIR_USE_SESSION: '1000000/10000000',
    FAIR_USE_API_KEY: '1000000/10000000',
    FAIR_USE_ADDRESS: '1000000/10000000',
    LOG_LEVEL: logLevel,
    VIGIL_HOME: home,
    DASHBOARD_DIR: join(home, 'no-dashboard'),
    // Production starts only with its keys, given as a deployment gives them.
    ...writeKeySet(join(home, 'keys')),
    PASSWORD_HASH_CONCURRENCY: String(passwordHashConcurrency),
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...extra,
  };
  try {
    const server = await startChildServer('Vigil', 'server/start.mjs', port, env, logLevel !== 'silent');
    return {
      ...server,
      async stop() {
        await server.stop();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

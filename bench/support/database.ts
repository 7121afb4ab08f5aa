import { randomBytes } from 'node:crypto';
import pg from 'pg';

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Where Vigil keeps its data during one benchmark. */
export interface BenchDatabase {
  /** DATABASE_URL for Vigil; undefined means the embedded PostgreSQL (PGlite). */
  url: string | undefined;
  describe: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server to create benchmark databases on, or null when only the embedded one is left. */
export async function findDatabaseServer(): Promise<string | null> {
  const configured = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  if (configured) return configured;
  return (await answers(LOCAL_SERVER)) ? LOCAL_SERVER : null;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A database of its own for one benchmark: earlier benchmarks' rows (and their autovacuum) must not
 * weigh on the next one. Vigil creates it on start and migrates it; drop() removes it.
 */
export function freshDatabase(server: string | null): BenchDatabase {
  if (!server) return { url: undefined, describe: 'embedded PGlite', drop: async () => {} };
  const name = `vigil_bench_${randomBytes(6).toString('hex')}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    describe: `PostgreSQL ${url.host}/${name}`,
    async drop() {
      const admin = new URL(server);
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

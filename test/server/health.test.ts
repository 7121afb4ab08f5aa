import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

/** Liveness and readiness as a load balancer or an orchestrator sees them, with the test's own PostgreSQL and Redis. */
let cluster: PostgresCluster;
let redis: RedisServer;
let vigil: TestVigil;

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startPostgresCluster(), startRedisServer()]);
  const databaseUrl = cluster.superuserUrl('vigil');
  vigil = await startVigil({ env: { REDIS_URL: redis.url }, database: { options: { databaseUrl, dataDir: 'memory://' }, ownerUrl: databaseUrl, drop: async () => {} } });
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await Promise.all([cluster?.destroy(), redis?.stop()]);
});

async function probe(path: string): Promise<{ status: number; body: { status?: string } }> {
  const response = await fetch(`${vigil.url}${path}`);
  return { status: response.status, body: await response.json() };
}

describe('health', () => {
  test('/livez and /readyz answer ok with every check passing; /healthz is /readyz', async () => {
    expect(await probe('/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('/readyz answers 503 within 5 s of PostgreSQL stopping, naming only the failing check; 200 again once it returns', async () => {
    await cluster.stop('fast');
    const stoppedAt = Date.now();
    try {
      await waitFor(async () => (await probe('/readyz')).status === 503, 5_000, 100);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(await probe('/readyz')).toEqual({ status: 503, body: { status: 'unavailable', failing: ['database'] } });
      // The process and its event loop still answer: an orchestrator must not restart it for an outage.
      expect(await probe('/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      await cluster.start();
    }
    await waitFor(async () => (await probe('/readyz')).status === 200, 10_000, 100);
  }, 30_000);

  test('/readyz shows Redis as degraded, still ready, while it is away; /livez stays up', async () => {
    await redis.kill('SIGKILL');
    try {
      await waitFor(async () => (await probe('/readyz')).body.status === 'degraded', 5_000, 100);
      expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'degraded', degraded: ['redis'] } });
      expect(await probe('/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      await redis.restart();
    }
    await waitFor(async () => (await probe('/readyz')).body.status === 'ok', 10_000, 100);
  }, 30_000);

  test('a database with migrations this code needs but lacks is not ready', async () => {
    await cluster.query(`delete from mikro_orm_migrations where name = 'Migration20261201000100_readiness'`, [], 'vigil');
    try {
      expect(await probe('/readyz')).toEqual({ status: 503, body: { status: 'unavailable', failing: ['migrations'] } });
    } finally {
      await cluster.query(`insert into mikro_orm_migrations (name, executed_at) values ('Migration20261201000100_readiness', now())`, [], 'vigil');
    }
    expect((await probe('/readyz')).status).toBe(200);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { collect, liveClient } from '../support/live.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * One tenant cannot starve the others: operations are budgeted per session, API key and address (shared by
 * the instances through Redis), and a slow statement is cancelled with a clean error. The test's own
 * PostgreSQL and Redis, two instances.
 */
let cluster: PostgresCluster;
let redis: RedisServer;
let a: TestVigil;
let b: TestVigil;

const BUDGETS = { FAIR_USE_SESSION: '1/5', FAIR_USE_API_KEY: '1/3', FAIR_USE_ADDRESS: '1000/1000', DATABASE_STATEMENT_TIMEOUT_MS: '300', TRUSTED_PROXIES: 'loopback' };

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startPostgresCluster(), startRedisServer()]);
  const url = cluster.superuserUrl('vigil');
  const database = { options: { databaseUrl: url, dataDir: 'memory://' }, ownerUrl: url, drop: async () => {} };
  const env = { ...BUDGETS, REDIS_URL: redis.url };
  a = await startVigil({ env, database });
  b = await startVigil({ env, database });
}, 60_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([cluster?.destroy(), redis?.stop()]);
});

const VIEWER = '{ viewer { isOwner } }';

describe('fair use', () => {
  test('a session has a budget shared by every instance; beyond it RATE_LIMITED with retryAfterSeconds, 429 and Retry-After', async () => {
    const owner = await signUpTenant(a.client());
    const onA = bearerClient(a, owner.token);
    const onB = bearerClient(b, owner.token);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await (i % 2 ? onB : onA).request(VIEWER));
    expect(answers.slice(0, 4).map(errorCode)).toEqual([undefined, undefined, undefined, undefined]);
    const refused = answers.slice(4).find((answer) => errorCode(answer) === 'RATE_LIMITED');
    expect(refused).toBeDefined();
    expect(refused!.status).toBe(429);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused!.errors![0].extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another session of the same tenant is not held back, and a moved clock refills the bucket.
    const other = await signUpTenant(a.client());
    expect(errorCode(await bearerClient(a, other.token).request(VIEWER))).toBeUndefined();
    a.clock.advance(10);
    b.clock.advance(10);
    expect(errorCode(await onA.request(VIEWER))).toBeUndefined();
  });

  test('an API key has its own budget, over HTTP and over a WebSocket alike', async () => {
    const owner = await signUpTenant(a.client());
    a.clock.advance(10);
    const key = (await bearerClient(a, owner.token).ok('mutation { createApiKey(input: { name: "loop", permissions: ["users.read"] }) { secret } }')).createApiKey.secret as string;
    const integration = bearerClient(a, key);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(errorCode(await integration.request('{ users { id } }')));
    expect(codes).toEqual([undefined, undefined, undefined]);
    expect(errorCode(await integration.request('{ users { id } }'))).toBe('RATE_LIMITED');
    const live = liveClient(b.url, { apiKey: key });
    try {
      const query = collect(live, '{ users { id } }');
      await query.done;
      expect(query.errors.flatMap((e) => (Array.isArray(e) ? e : [e])).map((e) => (e as { extensions?: { code?: string } }).extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(live.closes).toEqual([]);
    } finally {
      await live.dispose();
    }
  });

  test('an address has a budget too, counted behind a trusted proxy by the client it names', async () => {
    const tight = await startVigil({ env: { ...BUDGETS, FAIR_USE_ADDRESS: '1/2', REDIS_URL: redis.url, REDIS_CHANNEL_PREFIX: 'address-test' }, database: { options: { databaseUrl: cluster.superuserUrl('vigil'), dataDir: 'memory://' }, ownerUrl: cluster.superuserUrl('vigil'), drop: async () => {} } });
    try {
      const from = (ip: string) => {
        const client = tight.client();
        client.extraHeaders = { 'x-forwarded-for': ip };
        return client;
      };
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push(errorCode(await from('203.0.113.7').request(VIEWER)));
      expect(codes).toEqual([undefined, undefined, 'RATE_LIMITED']);
      expect(errorCode(await from('203.0.113.8').request(VIEWER))).toBeUndefined();
    } finally {
      await tight.stop();
    }
  });
});

describe('statement timeout', () => {
  test('a statement that runs too long is cancelled with TIMEOUT, nothing half-written, and the next works', async () => {
    const owner = await signUpTenant(a.client());
    a.clock.advance(10);
    const client = bearerClient(a, owner.token);
    const rolesBefore = (await client.ok('{ roles { id } }')).roles.length;
    // Someone holds the roles table: every statement that needs it waits, past the 300 ms timeout.
    const locker = new pg.Client({ connectionString: cluster.superuserUrl('vigil') });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table role in access exclusive mode');
      const started = Date.now();
      const result = await client.request('mutation { createRole(input: { name: "Slow", permissions: [] }) { id } }');
      expect(errorCode(result)).toBe('TIMEOUT');
      expect(result.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5_000);
      await locker.query('rollback');
    } finally {
      await locker.end();
    }
    a.clock.advance(10);
    expect((await client.ok('{ roles { id } }')).roles.length).toBe(rolesBefore);
    const journal = await client.ok('{ auditEvents(first: 100) { edges { node { action } } } }');
    expect(journal.auditEvents.edges.map((e: { node: { action: string } }) => e.node.action)).not.toContain('role.created');
  });
});

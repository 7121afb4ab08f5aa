import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BudgetKey, type FairUse, type FairUseRules, createFairUse } from '../../server/src/access/fair-use.ts';
import { MovableClock } from '../../server/src/clock.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait.ts';

// One token per ten seconds: real time passing during a test never adds a whole token.
const RULES: FairUseRules = {
  session: { ratePerSecond: 0.1, burst: 3 },
  apiKey: { ratePerSecond: 0.1, burst: 5 },
  address: { ratePerSecond: 1, burst: 10 },
};
const PREFIX = `vigil-test-${randomBytes(4).toString('hex')}`;

let server: RedisServer;
const clients: Redis[] = [];
const instances: FairUse[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.close()));
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  await server?.stop();
  process.off('unhandledRejection', onUnhandled);
});

function connect(): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

interface Instance {
  fairUse: FairUse;
  clock: MovableClock;
  logs: Array<{ level: number; msg: string }>;
}

/** A Vigil instance's fair use: its own clock, Redis connection (unless null) and log. */
async function instance(redis: 'redis' | null, timeoutMs?: number): Promise<Instance> {
  const clock = new MovableClock();
  const logs: Instance['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Instance['logs'][number]) });
  const client = redis ? connect() : null;
  if (client) await waitFor(() => client.status === 'ready');
  const fairUse = createFairUse({ rules: RULES, clock, redis: client, prefix: PREFIX, log, timeoutMs });
  instances.push(fairUse);
  return { fairUse, clock, logs };
}

const session = (): BudgetKey => ({ kind: 'session', id: randomUUID() });
const apiKey = (): BudgetKey => ({ kind: 'apiKey', id: randomUUID() });

async function takeTimes(fairUse: FairUse, keys: BudgetKey[], times: number): Promise<Array<number | null>> {
  const results: Array<number | null> = [];
  for (let i = 0; i < times; i++) results.push(await fairUse.take(keys));
  return results;
}

describe.each(['redis', null] as const)('one instance (%s)', (backing) => {
  test('allows the burst, then refuses with the seconds until the next token; refills as the clock moves', async () => {
    const { fairUse, clock, logs } = await instance(backing);
    const key = [session()];
    expect(await takeTimes(fairUse, key, 3)).toEqual([null, null, null]);
    expect(await fairUse.take(key)).toBe(10);
    clock.advance(5);
    expect(await fairUse.take(key)).toBe(5);
    clock.advance(5);
    expect(await fairUse.take(key)).toBeNull();
    expect(await fairUse.take(key)).toBe(10);
    // A bucket refills up to its burst, never beyond.
    clock.advance(3600);
    expect(await takeTimes(fairUse, key, 4)).toEqual([null, null, null, 10]);
    expect(logs).toEqual([]);
  });

  test('a refusal on one key takes nothing from the others', async () => {
    const { fairUse } = await instance(backing);
    const tired = session();
    const fresh = apiKey();
    expect(await takeTimes(fairUse, [tired], 3)).toEqual([null, null, null]);
    expect(await takeTimes(fairUse, [tired, fresh], 3)).toEqual([10, 10, 10]);
    expect(await takeTimes(fairUse, [fresh], 6)).toEqual([null, null, null, null, null, 10]);
  });

  test('an IPv6 address is a key like any other', async () => {
    const { fairUse } = await instance(backing);
    const address: BudgetKey = { kind: 'address', id: `2001:db8::${randomBytes(2).toString('hex')}` };
    const other: BudgetKey = { kind: 'address', id: `${address.id}:1` };
    expect((await takeTimes(fairUse, [address], 11)).at(-1)).toBe(1);
    expect(await fairUse.take([other])).toBeNull();
  });
});

test('two instances sharing one Redis share one budget, kept under the documented key with an expiry', async () => {
  const [a, b] = await Promise.all([instance('redis'), instance('redis')]);
  const address: BudgetKey = { kind: 'address', id: '2001:db8::7' + randomBytes(1).toString('hex') };
  const key = [session(), address];
  expect(await takeTimes(a.fairUse, key, 2)).toEqual([null, null]);
  expect(await takeTimes(b.fairUse, key, 2)).toEqual([null, 10]);
  expect(await a.fairUse.take(key)).toBe(10);

  const stored = `${PREFIX}:fair-use:address:${address.id}`;
  const probe = connect();
  expect(Number(await probe.hget(stored, 'tokens'))).toBeCloseTo(7, 1);
  const ttl = await probe.pttl(stored);
  expect(ttl).toBeGreaterThan(9_000);
  expect(ttl).toBeLessThanOrEqual(10_000 + 5_000);
});

test('without Redis every instance keeps its own budget, and says nothing about it', async () => {
  const [a, b] = await Promise.all([instance(null), instance(null)]);
  const key = [session()];
  expect(await takeTimes(a.fairUse, key, 4)).toEqual([null, null, null, 10]);
  expect(await takeTimes(b.fairUse, key, 4)).toEqual([null, null, null, 10]);
  expect([...a.logs, ...b.logs]).toEqual([]);
});

test('a Redis that stops answering does not hold up a take: it answers from memory in time', async () => {
  const a = await instance('redis', 100);
  const probe = connect();
  // Every client waits, yet each stays 'ready': only the timeout can tell.
  await probe.client('PAUSE', 700, 'ALL');
  const started = Date.now();
  expect(await takeTimes(a.fairUse, [session()], 4)).toEqual([null, null, null, 10]);
  expect(Date.now() - started).toBeLessThan(600);
  expect(a.logs.map((l) => l.msg)).toEqual([expect.stringMatching(/Redis unavailable/)]);
  await waitFor(async () => (await a.fairUse.take([session()])) === null && a.logs.length === 2, 5_000, 50);
  expect(a.logs[1].msg).toMatch(/Redis back/);
});

test('when Redis dies each instance answers from memory, and shares again once Redis is back', async () => {
  const [a, b] = await Promise.all([instance('redis'), instance('redis')]);
  const shared = [session()];
  expect(await takeTimes(a.fairUse, shared, 3)).toEqual([null, null, null]);
  expect(await b.fairUse.take(shared)).toBe(10);

  await server.kill('SIGKILL');
  // Whether a call meets a dead socket or a client already reconnecting, each answers, and soon.
  const apart = [session()];
  const started = Date.now();
  expect(await takeTimes(a.fairUse, apart, 4)).toEqual([null, null, null, 10]);
  expect(await takeTimes(b.fairUse, apart, 4)).toEqual([null, null, null, 10]);
  expect(Date.now() - started).toBeLessThan(2_000);
  const fellBack = (i: Instance) => i.logs.filter((l) => l.level === 40 && /Redis unavailable/.test(l.msg));
  expect(fellBack(a)).toHaveLength(1);
  expect(fellBack(b)).toHaveLength(1);

  await server.restart();
  // Shared again once a's takes and b's refusal all reached the same Redis bucket; each attempt uses a fresh one.
  await waitFor(async () => {
    const probe = [session()];
    const first = await takeTimes(a.fairUse, probe, 3);
    return first.every((r) => r === null) && (await b.fairUse.take(probe)) === 10;
  }, 10_000, 50);
  const back = (i: Instance) => i.logs.filter((l) => l.level === 30 && /Redis back/.test(l.msg));
  expect(back(a)).toHaveLength(1);
  await waitFor(() => back(b).length === 1);
  expect(fellBack(a)).toHaveLength(1);
  expect(fellBack(b)).toHaveLength(1);

  // A call given up on during the outage may settle late: give it the time to, then look.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(unhandled).toEqual([]);
});

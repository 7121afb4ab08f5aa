import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { auditTopic } from '../../server/src/audit/feed.ts';
import { GraphQLClient } from '../support/client.ts';
import { STRONG_PASSWORD, type SignedUp, signIn, signUpTenant } from '../support/factories.ts';
import { type Collector, collect, liveClient } from '../support/live.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type VigilProcess, startVigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Outages of what Vigil depends on, as an operator lives them: two Vigil processes (A and B) on one
 * private PostgreSQL and one private Redis, and the dependency killed under them. Vigil must keep
 * serving, keep its security promises (a revoked session's socket closes everywhere) and say what is
 * wrong in /readyz and in a few structured log lines, never by crashing.
 */

// Vigil's default REDIS_CHANNEL_PREFIX: the Redis server is this file's own, so nothing else shares it.
const CHANNEL_PREFIX = 'vigil';
const FEED = 'subscription($a: SafeInt) { auditEvents(afterSeq: $a) { seq action } }';
/** A journal read: itself journalled (audit.read), so one committed event per call. */
const JOURNAL_READ = '{ auditEvents(first: 1) { edges { node { seq } } } }';
const VIEWER = '{ viewer { user { id } } }';
const REVOKE_SESSION = 'mutation($id: ID!) { revokeSession(id: $id) { id } }';
/** How long an event committed during an outage may take to reach a subscriber. */
const DELIVERY_MS = 2_000;
/** Redis lines a process may write per Redis outage: one when it drops, one when it returns, maybe a count. */
const REDIS_LINES_PER_OUTAGE = 6;

type FeedItem = { auditEvents: { seq: number; action: string } };
interface Feed {
  name: string;
  client: ReturnType<typeof liveClient>;
  collector: Collector<FeedItem>;
  /** The afterSeq it was opened with: it must then receive every later seq, once, in order. */
  from: number;
}
interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
}

let cluster: PostgresCluster;
let redis: RedisServer;
let env: Record<string, string>;
let a: VigilProcess;
let b: VigilProcess;
let owner: SignedUp;
/** The owner's first session; follows rotations (Vigil-Session-Token), so old secrets are never replayed. */
let ownerToken: string;
let redisUp = true;
/** Every Vigil process this file started, stopped in afterAll. */
const processes: VigilProcess[] = [];
/** Per Redis outage, where each instance's output stood when Redis was killed (for the log checks). */
const outages: Array<Array<{ name: string; proc: VigilProcess; from: number }>> = [];

async function startInstance(): Promise<VigilProcess> {
  const proc = await startVigilProcess(env);
  processes.push(proc);
  return proc;
}

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startPostgresCluster(), startRedisServer()]);
  env = { DATABASE_URL: cluster.superuserUrl('vigil'), REDIS_URL: redis.url };
  // One after the other: the first creates and migrates the database.
  a = await startInstance();
  b = await startInstance();
  const client = new GraphQLClient(a.url);
  owner = await signUpTenant(client);
  ownerToken = owner.token;
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((proc) => proc.stop()));
  await Promise.all([redis?.stop(), cluster?.destroy()]);
});

// A test that failed half-way (or a process that crashed) must not fail the next ones for its reasons.
beforeEach(async () => {
  await cluster.start();
  if (!redisUp) {
    await redis.restart();
    redisUp = true;
  }
  if (a.exited()) a = await startInstance();
  if (b.exited()) b = await startInstance();
  // Best effort: both back on their feet (reconnected to Redis after the previous test's outage, say).
  await Promise.all([a, b].map((proc) => waitFor(async () => ((await probe(proc, '/readyz').catch(() => null))?.body as { status?: string } | undefined)?.status === 'ok', 15_000, 100).catch(() => {})));
}, 120_000);

// --- helpers -----------------------------------------------------------------------------------

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function describeProcess(name: string, proc: VigilProcess): string {
  return proc.exited() ? `${name} has exited (code ${proc.exitCode}); its output ends with:\n${tail(proc.output())}` : `${name} is running`;
}

function expectRunning(name: string, proc: VigilProcess, when: string): void {
  expect(proc.exited(), `${name} must not exit ${when}: ${describeProcess(name, proc)}`).toBe(false);
}

/** Runs a request to a Vigil; if it gets no answer at all, says whether the process died. */
async function reach<T>(name: string, proc: VigilProcess, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Error(`${name} did not answer (${(error as Error).message}); ${describeProcess(name, proc)}`, { cause: error });
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** POST /graphql; the body is parsed when it is JSON, kept as text otherwise. */
async function graphql(proc: VigilProcess, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${proc.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, headers: response.headers, body: parseBody(await response.text()) };
}

/** As the owner's first session, following a rotation of its token. */
async function asOwner(proc: VigilProcess, query: string, variables: Record<string, unknown> = {}): Promise<HttpAnswer> {
  const answer = await graphql(proc, query, variables, ownerToken);
  const rotated = answer.headers.get('vigil-session-token');
  if (rotated) ownerToken = rotated;
  return answer;
}

async function probe(proc: VigilProcess, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${proc.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: parseBody(await response.text()) };
}

/** Polls `read` until it equals `expected` (deeply), then asserts it: a timeout shows the last answer's diff. */
async function eventually<T>(read: () => Promise<T>, expected: unknown, timeoutMs: number, message: string, soft = false): Promise<void> {
  let last: T | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      last = await read();
      if (deepEqual(last, expected)) break;
    } catch (error) {
      last = { error: String(error) } as T;
    }
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  (soft ? expect.soft : expect)(last, `${message} (within ${timeoutMs} ms)`).toEqual(expected);
}

function deepEqual(x: unknown, y: unknown): boolean {
  try {
    expect(x).toEqual(y);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const sleepUntil = (time: number) => sleep(time - Date.now());

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** The tenant's last committed seq, read as the superuser (not through Vigil). */
async function lastSeq(): Promise<number> {
  const [row] = await cluster.query<{ seq: string | null }>('select max(seq)::text as seq from audit_event where tenant_id = $1', [owner.tenantId], 'vigil');
  return Number(row?.seq ?? 0);
}

async function journalRead(name: string, proc: VigilProcess, when: string): Promise<void> {
  const answer = await reach(name, proc, () => asOwner(proc, JOURNAL_READ));
  expect({ status: answer.status, errors: answer.body?.errors }, `a journal read on ${name} ${when}`).toEqual({ status: 200, errors: undefined });
}

async function signInOwner(name: string, proc: VigilProcess, when: string): Promise<{ token: string; sessionId: string }> {
  const answer = await reach(name, proc, () => signIn(new GraphQLClient(proc.url), { tenantSlug: owner.slug, email: owner.email }));
  expect(answer.errors, `a sign-in on ${name} ${when}`).toBeUndefined();
  return { token: answer.data!.signIn.token, sessionId: answer.data!.signIn.session.id };
}

function openFeed(name: string, proc: VigilProcess, token: string, from: number): Feed {
  const client = liveClient(proc.url, { token });
  return { name, client, collector: collect<FeedItem>(client, FEED, { a: from }), from };
}

const seqsOf = (feed: Feed) => feed.collector.items.map((item) => item.auditEvents.seq);

function feedState(feed: Feed): string {
  return `${feed.name}: seqs ${JSON.stringify(seqsOf(feed))}, errors ${JSON.stringify(feed.collector.errors)}, closes ${JSON.stringify(feed.client.closes)}`;
}

/** Every seq after the feed's start, each once and in order, and nothing out of place after them. */
function expectExactlyOnceInOrder(feed: Feed, upTo: number, what: string): void {
  const seqs = seqsOf(feed);
  expect(seqs.filter((seq) => seq <= upTo), `${what}: ${feedState(feed)}`).toEqual(range(feed.from + 1, upTo));
  expect(seqs, `${what} (no duplicate, no disorder): ${feedState(feed)}`).toEqual(range(feed.from + 1, feed.from + seqs.length));
}

/** Waits until each feed has received `seq` or the deadline passes (nothing else is committed meanwhile), then asserts. */
async function expectDelivered(feeds: Feed[], seq: number, deadline: number, what: string): Promise<void> {
  await Promise.all(
    feeds.map((feed) => feed.collector.until((items) => items.some((item) => item.auditEvents.seq >= seq), Math.max(1, deadline - Date.now())).catch(() => {})),
  );
  for (const feed of feeds) expectExactlyOnceInOrder(feed, seq, `${what}: seq ${seq} reaches ${feed.name}`);
}

/**
 * Commits an audited event on A, and again every second, until each feed has received the last one;
 * fails after timeoutMs. Returns the seq they all received.
 */
async function untilAllReceive(feeds: Feed[], timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await journalRead('A', a, what);
    const seq = await lastSeq();
    try {
      await Promise.all(feeds.map((feed) => feed.collector.until((items) => items.some((item) => item.auditEvents.seq >= seq), 1_000)));
      return seq;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what}: seq ${seq} committed on A did not reach every subscriber within ${timeoutMs} ms\n${feeds.map(feedState).join('\n')}`);
    }
  }
}

async function disposeFeeds(feeds: Feed[]): Promise<void> {
  await Promise.all(feeds.map(async (feed) => {
    feed.collector.stop();
    await feed.client.dispose();
  }));
}

function adminRedis(): Redis {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {});
  return client;
}

/** PUBSUB NUMSUB of one channel; -1 when Redis does not answer. */
async function numsub(channel: string): Promise<number> {
  const client = adminRedis();
  try {
    await client.connect();
    const [, count] = (await client.pubsub('NUMSUB', channel)) as [string, number];
    return Number(count);
  } catch {
    return -1;
  } finally {
    client.disconnect();
  }
}

async function waitForSubscribers(channel: string, count: number, timeoutMs: number, when: string): Promise<void> {
  let subscribers = -1;
  await waitFor(async () => (subscribers = await numsub(channel)) >= count, timeoutMs, 50).catch(() => {});
  expect(subscribers, `PUBSUB NUMSUB ${channel} ${when} (A and B subscribed), within ${timeoutMs} ms`).toBeGreaterThanOrEqual(count);
}

/** Every number found under a `seq` key, however deep. */
function seqsIn(value: unknown): number[] {
  if (Array.isArray(value)) return value.flatMap(seqsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === 'seq' && typeof inner === 'number' ? [inner] : seqsIn(inner)));
}

async function killRedis(): Promise<void> {
  outages.push([
    { name: 'A', proc: a, from: a.output().length },
    { name: 'B', proc: b, from: b.output().length },
  ]);
  await redis.kill('SIGKILL');
  redisUp = false;
}

async function restartRedis(): Promise<void> {
  await redis.restart();
  redisUp = true;
}

/** Soft: each check of the outage is reported, not only the first that fails. */
function expectUnavailable(answer: HttpAnswer, what: string): void {
  const errors: Array<{ extensions?: { code?: string } }> | undefined = answer.body?.errors;
  const retryAfter = answer.headers.get('retry-after');
  expect.soft(
    {
      status: answer.status,
      retryAfter: retryAfter !== null && /^\s*(\d+|.+GMT)\s*$/.test(retryAfter),
      codes: [...new Set(errors?.map((error) => error.extensions?.code))],
    },
    `${what} while PostgreSQL is down: ${JSON.stringify({ retryAfter, body: answer.body })}`,
  ).toEqual({ status: 503, retryAfter: true, codes: ['SERVICE_UNAVAILABLE'] });
}

function isJsonObject(line: string): boolean {
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

// --- the tests ---------------------------------------------------------------------------------

describe('outages', () => {
  test('Redis killed with SIGKILL for 5 s while two instances serve: they keep serving, revocation still closes sockets, events still arrive', async () => {
    const s2 = await signInOwner('A', a, 'before the outage');
    const from = await lastSeq();
    const onA = openFeed('A (owner, first session)', a, ownerToken, from);
    const onB = openFeed('B (owner, first session)', b, ownerToken, from);
    const onBS2 = openFeed('B (owner, session S2)', b, s2.token, from);
    const channel = `${CHANNEL_PREFIX}:${auditTopic(owner.tenantId)}`;
    try {
      // Live on both instances: both listen on the tenant's channel, and an event made on A reaches all three.
      await waitForSubscribers(channel, 2, 10_000, 'before the outage');
      await untilAllReceive([onA, onB, onBS2], 10_000, 'before the outage');

      await killRedis();
      const killedAt = Date.now();

      // (i) audited actions on A answer normally; (iii) what they commit reaches A's and B's subscribers within 2 s.
      await signInOwner('A', a, 'during the Redis outage');
      let committedAt = Date.now();
      let seq = await lastSeq();
      await sleepUntil(killedAt + 1_000);
      expectRunning('A', a, '1 s into the Redis outage');
      expectRunning('B', b, '1 s into the Redis outage');
      await expectDelivered([onA, onB], seq, committedAt + DELIVERY_MS, 'a sign-in during the Redis outage');

      await journalRead('A', a, 'during the Redis outage');
      committedAt = Date.now();
      seq = await lastSeq();
      await expectDelivered([onA, onB], seq, committedAt + DELIVERY_MS, 'a journal read during the Redis outage');

      // (ii) S2 revoked through A: its socket on B closes within 2 s, and receives nothing committed afterwards.
      expect(onBS2.client.closes, `the S2 socket on B before the revocation: ${feedState(onBS2)}`).toEqual([]);
      const revoked = await reach('A', a, () => asOwner(a, REVOKE_SESSION, { id: s2.sessionId }));
      const answeredAt = Date.now();
      expect({ status: revoked.status, body: revoked.body }, 'revokeSession(S2) on A during the Redis outage').toEqual({
        status: 200,
        body: { data: { revokeSession: { id: s2.sessionId } } },
      });
      const cutoff = await lastSeq();
      await waitFor(() => onBS2.client.closes.length > 0, DELIVERY_MS, 10).catch(() => {});
      const closedAfterMs = Date.now() - answeredAt;
      // Soft: whether or not it closed, what it received afterwards is checked (and reported) below.
      expect.soft(onBS2.client.closes[0]?.code, `the S2 socket on B closes with 4403 within 2 s of the revocation's answer: ${feedState(onBS2)}; ${describeProcess('B', b)}`).toBe(4403);
      expect.soft(closedAfterMs, 'ms from the revocation\'s answer to the S2 socket\'s close on B').toBeLessThanOrEqual(DELIVERY_MS + 100);

      await journalRead('A', a, 'after the revocation, during the Redis outage');
      committedAt = Date.now();
      seq = await lastSeq();
      await expectDelivered([onA, onB], seq, committedAt + DELIVERY_MS, 'a journal read after the revocation');
      expect(seqsOf(onBS2).filter((s) => s > cutoff), `events the revoked S2 received after seq ${cutoff} (the last committed when the revocation answered)`).toEqual([]);

      await sleepUntil(killedAt + 5_000);
      expectRunning('A', a, 'during a 5 s Redis outage');
      expectRunning('B', b, 'during a 5 s Redis outage');

      await restartRedis();
      // Back: events still reach both, and on pub/sub again (both instances subscribed, A publishing).
      const back = await untilAllReceive([onA, onB], 10_000, 'after Redis returned');
      expectExactlyOnceInOrder(onA, back, 'after Redis returned');
      expectExactlyOnceInOrder(onB, back, 'after Redis returned');
      await waitForSubscribers(channel, 2, 10_000, 'after Redis returned');

      const listener = adminRedis();
      // The seqs each message carries, wherever the bus's envelope puts the event.
      const published: number[][] = [];
      try {
        await listener.connect();
        listener.on('message', (name: string, message: string) => {
          if (name === channel) published.push(seqsIn(parseBody(message)));
        });
        await listener.subscribe(channel);
        await journalRead('A', a, 'after Redis returned');
        const seq = await lastSeq();
        await waitFor(() => published.flat().includes(seq), 5_000, 10).catch(() => {});
        expect(published, `messages on ${channel} within 5 s of seq ${seq} committed on A`).toContainEqual(expect.arrayContaining([seq]));
      } finally {
        listener.disconnect();
      }
      expectRunning('A', a, 'after the Redis outage');
      expectRunning('B', b, 'after the Redis outage');
    } finally {
      await disposeFeeds([onA, onB, onBS2]);
    }
  }, 120_000);

  test('/readyz shows Redis as degraded while /livez stays up', async () => {
    await killRedis();
    for (const [name, proc] of [['A', a], ['B', b]] as const) {
      await eventually(() => probe(proc, '/readyz'), { status: 200, body: { status: 'degraded', degraded: ['redis'] } }, 5_000, `${name} /readyz with Redis down`, true);
      expect.soft(await probe(proc, '/livez'), `${name} /livez with Redis down`).toEqual({ status: 200, body: { status: 'ok' } });
    }
    expectRunning('A', a, 'with Redis down');
    expectRunning('B', b, 'with Redis down');
    await restartRedis();
    for (const [name, proc] of [['A', a], ['B', b]] as const) {
      await eventually(() => probe(proc, '/readyz'), { status: 200, body: { status: 'ok' } }, 10_000, `${name} /readyz once Redis is back`);
    }
  }, 120_000);

  test('structured logs through the Redis outages: no unhandled error event, no stack trace, a few lines about Redis', () => {
    expect(outages.length, 'Redis outages so far (the tests above)').toBeGreaterThan(0);
    const seen = new Set<VigilProcess>();
    for (const [index, outage] of outages.entries()) {
      for (const { name, proc, from } of outage) {
        seen.add(proc);
        // Until the next outage's start, or all that it wrote since.
        const to = outages[index + 1]?.find((entry) => entry.proc === proc)?.from ?? proc.output().length;
        const lines = proc.output().slice(from, to).split('\n').filter((line) => line.trim());
        const where = `${name} during Redis outage ${index + 1}`;
        expect.soft(lines.filter((line) => !isJsonObject(line)), `${where}: lines that are not pino JSON`).toEqual([]);
        const redisLines = lines.filter((line) => /redis/i.test(line));
        expect.soft(redisLines.length, `${where}: lines about Redis (at most ${REDIS_LINES_PER_OUTAGE}):\n${redisLines.slice(0, 20).join('\n')}`).toBeLessThanOrEqual(REDIS_LINES_PER_OUTAGE);
      }
    }
    for (const proc of seen) {
      const name = outages.flat().find((entry) => entry.proc === proc)!.name;
      const lines = proc.output().split('\n');
      expect.soft(lines.filter((line) => line.includes('Unhandled error event')), `${name}: "Unhandled error event" lines`).toEqual([]);
      expect.soft(lines.filter((line) => line.startsWith('    at ')), `${name}: stack trace lines`).toEqual([]);
    }
  });

  test('an instance started while Redis is down works and joins when Redis comes', async () => {
    await redis.kill('SIGKILL');
    redisUp = false;
    const c = await startInstance();
    const startedAt = Date.now();
    let onC: Feed | undefined;
    try {
      await signInOwner('C', c, 'started while Redis is down');
      expect(await probe(c, '/livez'), 'C /livez with Redis down').toEqual({ status: 200, body: { status: 'ok' } });
      onC = openFeed('C (owner)', c, ownerToken, await lastSeq());
      await sleepUntil(startedAt + 15_000);
      expectRunning('C', c, 'within 15 s of starting while Redis is down');

      await restartRedis();
      const seq = await untilAllReceive([onC], 10_000, 'Redis returned after C started');
      expectExactlyOnceInOrder(onC, seq, 'C after Redis returned');
      expectRunning('C', c, 'once Redis returned');
    } finally {
      if (onC) await disposeFeeds([onC]);
      await c.stop();
    }
  }, 120_000);

  test('PostgreSQL stopped for 3 s: 503 SERVICE_UNAVAILABLE with Retry-After, /readyz says database, nothing exits; back within 10 s', async () => {
    const normal = { status: 200, data: { viewer: { user: { id: owner.userId } } }, errors: undefined };
    const viewer = async () => {
      const answer = await asOwner(a, VIEWER);
      return { status: answer.status, data: answer.body?.data, errors: answer.body?.errors };
    };
    expect(await viewer(), 'the viewer query before the outage').toEqual(normal);
    await eventually(() => probe(a, '/readyz'), { status: 200, body: { status: 'ok' } }, 15_000, 'A /readyz before the outage');

    await cluster.stop('fast');
    const stoppedAt = Date.now();
    try {
      expectUnavailable(await reach('A', a, () => asOwner(a, VIEWER)), 'the viewer query with a session token');
      expectUnavailable(
        await reach('A', a, () => graphql(a, 'mutation($input: SignInInput!) { signIn(input: $input) { token } }', {
          input: { tenantSlug: owner.slug, email: owner.email, password: STRONG_PASSWORD },
        })),
        'an anonymous signIn',
      );
      const ready = await reach('A', a, () => probe(a, '/readyz'));
      expect.soft(ready, 'A /readyz while PostgreSQL is down').toEqual({ status: 503, body: { status: 'unavailable', failing: expect.arrayContaining(['database']) } });
      expect.soft(await reach('A', a, () => probe(a, '/livez')), 'A /livez while PostgreSQL is down').toEqual({ status: 200, body: { status: 'ok' } });
      await sleepUntil(stoppedAt + 3_000);
      expectRunning('A', a, 'while PostgreSQL is down');
      expectRunning('B', b, 'while PostgreSQL is down');
    } finally {
      await cluster.start();
    }
    await eventually(viewer, normal, 10_000, 'the viewer query once PostgreSQL is back');
    await eventually(() => probe(a, '/readyz'), { status: 200, body: { status: 'ok' } }, 10_000, 'A /readyz once PostgreSQL is back');
    expectRunning('A', a, 'after the PostgreSQL outage');
    expectRunning('B', b, 'after the PostgreSQL outage');
  }, 120_000);
});

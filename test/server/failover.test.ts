import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { readCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { ConfigError } from '../../server/src/config-error.ts';
import { loadConfig } from '../../server/src/config.ts';
import { postgresHostUrls, postgresTarget, postgresUrlIsPrivate } from '../../server/src/db/connection-url.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { GraphQLClient } from '../support/client.ts';
import { type SignedUp, signUpTenant } from '../support/factories.ts';
import { type Collector, collect, liveClient } from '../support/live.ts';
import { type ReplicatedPair, STANDBY_NAME, caughtUp, promote, startReplicatedPair, walReceiverPid } from '../support/pg-standby.ts';
import { type VigilProcess, startVigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Failover with a host list (issue 16): DATABASE_URL names a primary and its standby, Vigil writes only to
 * the one not in recovery, and finds the new one by itself when the primary dies, with /readyz 503 meanwhile.
 * Synchronous replication (ANY 1, remote_apply) loses nothing that was answered OK; the negative control,
 * asynchronous with the walreceiver paused, loses acknowledged events and Vigil says so
 * (journal.rollback_detected), from the checkpoints it signed before the crash.
 */

const CREATE_ROLE = 'mutation($n: String!) { createRole(input: { name: $n, permissions: ["audit.read"] }) { id name } }';
const FEED = 'subscription($a: SafeInt) { auditEvents(afterSeq: $a) { seq action } }';
const MUTATIONS = 1_000;
const CLIENTS = 8;
/** The contract: the new primary found within this, once it accepts writes. */
const SWITCH_BOUND_MS = 5_000;
/** A mutation is retried (same key) until it is answered, within this. */
const RETRY_DEADLINE_MS = 30_000;
/** The negative control writes until at least this much WAL waits unsent on the primary. */
const UNSENT_WAL_BYTES = 256 * 1024;
const run = promisify(execFile);

/** Checkpoints every second (so one is signed before the crash), and no fair-use budget in the way of 1,000 mutations. */
const ENV = { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1', FAIR_USE_SESSION: '100000/100000', FAIR_USE_ADDRESS: '100000/100000' };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

function hostList(pair: ReplicatedPair): string {
  return `postgresql://postgres@127.0.0.1:${pair.primary.port},127.0.0.1:${pair.standby.port}/vigil`;
}

interface Started {
  pair: ReplicatedPair;
  vigil: VigilProcess;
  home: string;
  owner: SignedUp;
}

async function startOnPair(mode: 'synchronous' | 'asynchronous'): Promise<Started> {
  const pair = await startReplicatedPair(mode);
  cleanups.push(() => pair.destroy());
  // Our own VIGIL_HOME: the test reads the checkpoints, and audit:verify needs the same keys.
  const home = mkdtempSync(join(tmpdir(), 'vigil-failover-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const vigil = await startVigilProcess({ ...ENV, DATABASE_URL: hostList(pair), VIGIL_HOME: home });
  cleanups.push(() => vigil.stop());
  const owner = await signUpTenant(new GraphQLClient(vigil.url));
  return { pair, vigil, home, owner };
}

type Outcome = { kind: 'ok'; id: string } | { kind: 'lost' } | { kind: 'retry'; why: string };

/** One attempt. `lost`: applied before a failover took its answer (CONFLICT, "applied already"): not answered OK. */
async function createRoleOnce(vigil: VigilProcess, token: string, key: string, name: string): Promise<Outcome> {
  try {
    const response = await fetch(`${vigil.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
      body: JSON.stringify({ query: CREATE_ROLE, variables: { n: name } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => null)) as { data?: { createRole?: { id: string } }; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
    if (body?.data?.createRole && !body.errors) return { kind: 'ok', id: body.data.createRole.id };
    const error = body?.errors?.[0];
    if (error?.extensions?.code === 'CONFLICT' && /applied already/.test(error.message)) return { kind: 'lost' };
    return { kind: 'retry', why: error?.extensions?.code ?? `HTTP ${response.status}` };
  } catch (error) {
    return { kind: 'retry', why: (error as Error).message };
  }
}

/** As a careful client does: the same Idempotency-Key on every retry, until an answer. */
async function createRole(vigil: VigilProcess, token: string, key: string, name: string, seen: Set<string>): Promise<Outcome> {
  const deadline = Date.now() + RETRY_DEADLINE_MS;
  for (;;) {
    const outcome = await createRoleOnce(vigil, token, key, name);
    if (outcome.kind !== 'retry') return outcome;
    seen.add(outcome.why);
    if (Date.now() > deadline) throw new Error(`${key} unanswered after ${RETRY_DEADLINE_MS} ms; last: ${outcome.why}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Probe {
  at: number;
  status: number;
  failing?: string[];
}

/** /readyz every 50 ms, with the time of each answer. */
function watchReadiness(vigil: VigilProcess): { probes: Probe[]; stop(): Promise<void> } {
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const probe = await fetch(`${vigil.url}/readyz`, { signal: AbortSignal.timeout(3_000) }).then(
        async (response) => ({ at: Date.now(), status: response.status, failing: ((await response.json()) as { failing?: string[] }).failing }),
        () => ({ at: Date.now(), status: 0 }),
      );
      probes.push(probe);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    probes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function journalHead(pair: ReplicatedPair, server: 'primary' | 'standby', tenantId: string): Promise<number> {
  const [{ seq }] = await pair[server].query<{ seq: number | null }>('select max(seq)::int as seq from audit_event where tenant_id = $1', [tenantId], 'vigil');
  return seq ?? 0;
}

/** role.created entries per Idempotency-Key, on a server (as the superuser: no row-level security). */
async function createdByKey(pair: ReplicatedPair, server: 'primary' | 'standby', tenantId: string): Promise<Map<string, number>> {
  const rows = await pair[server].query<{ key: string; n: number }>(
    `select details->>'idempotencyKey' as key, count(*)::int as n from audit_event where tenant_id = $1 and action = 'role.created' group by 1`,
    [tenantId],
    'vigil',
  );
  return new Map(rows.map((row) => [row.key, row.n]));
}

/** WAL the primary wrote and its walsender has not sent the standby (the walreceiver paused), in bytes. */
async function unsentWal(pair: ReplicatedPair): Promise<number> {
  const rows = await pair.primary.query<{ unsent: string }>(`select (pg_current_wal_lsn() - sent_lsn)::text as unsent from pg_stat_replication where application_name = $1`, [STANDBY_NAME]);
  return Number(rows[0]?.unsent ?? 0);
}

type FeedItem = { auditEvents: { seq: number; action: string } };
const seqsOf = (collector: Collector<FeedItem>) => collector.items.map((item) => item.auditEvents.seq);

describe('a libpq host list in DATABASE_URL', () => {
  test('is cut into one URL per host, with the same login, database and parameters; a single host stays as it is', () => {
    expect(postgresHostUrls('postgres://o@db/vigil?sslmode=disable')).toEqual(['postgres://o@db/vigil?sslmode=disable']);
    expect(postgresHostUrls('postgres://o:p%40ss@h1:5432,h2:5433,[::1]/vigil?sslmode=verify-full')).toEqual([
      'postgres://o:p%40ss@h1:5432/vigil?sslmode=verify-full',
      'postgres://o:p%40ss@h2:5433/vigil?sslmode=verify-full',
      'postgres://o:p%40ss@[::1]/vigil?sslmode=verify-full',
    ]);
  });

  test('each host has its own TLS identity check, and every hop must be private for production', () => {
    const target = postgresTarget('DATABASE_URL', 'postgres://o@db-a.example:5432,db-b.example:6432/vigil?sslmode=verify-full');
    expect(target.servers.map((s) => [s.host, s.port, s.transport])).toEqual([
      ['db-a.example', 5432, 'tls'],
      ['db-b.example', 6432, 'tls'],
    ]);
    expect(target.servers.map((s) => (s.ssl as { servername?: string }).servername)).toEqual(['db-a.example', 'db-b.example']);
    expect(target.clientUrl).toBe(target.servers[0].clientUrl);
    expect(postgresUrlIsPrivate('postgres://o@127.0.0.1:5432,db-b.example:5433/vigil')).toBe(false);
    expect(postgresUrlIsPrivate('postgres://o@127.0.0.1:5432,localhost:5433/vigil')).toBe(true);
  });

  test('the configuration accepts a list and refuses an empty host in it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://o@h1:5432,h2:5433/vigil' }).databaseUrl).toBe('postgres://o@h1:5432,h2:5433/vigil');
    expect(() => loadConfig({ DATABASE_URL: 'postgres://o@h1:5432,,h2/vigil' })).toThrow(ConfigError);
    expect(() => postgresTarget('DATABASE_URL', 'postgres://o@%2Fvar%2Frun%2Fpostgresql,h2/vigil')).toThrow(/must all be unix sockets, or all TCP/);
  });
});

describe('failover with DATABASE_URL listing a primary and its standby', () => {
  test('synchronous (ANY 1, remote_apply): primary killed mid-write, standby promoted; nothing answered OK is lost, no key twice, chains verify, the feed resumes once', async () => {
    const { pair, vigil, home, owner } = await startOnPair('synchronous');
    const from = await journalHead(pair, 'primary', owner.tenantId);
    const subscriber = liveClient(vigil.url, { token: owner.token });
    cleanups.push(() => subscriber.dispose());
    const live = collect<FeedItem>(subscriber, FEED, { a: from });
    // The feed is live once a first event reaches it (not counted among the 1,000).
    await createRole(vigil, owner.token, 'warm-up', 'Warm-up', new Set());
    await live.until((items) => items.length > 0, 10_000);
    const readiness = watchReadiness(vigil);

    // The crash comes after a random number of answered mutations, while all clients are writing.
    const crashAfter = 150 + Math.floor(Math.random() * 600);
    let answered = 0;
    const crash: { done?: Promise<{ stoppedAt: number; promotedAt: number; seqAtCrash: number }> } = {};
    const crashNow = async () => {
      const seqAtCrash = seqsOf(live).at(-1)!;
      const stoppedAt = Date.now();
      await pair.primary.stop('immediate');
      await promote(pair.standby);
      return { stoppedAt, promotedAt: Date.now(), seqAtCrash };
    };
    const ok = new Map<string, string>();
    const lost = new Set<string>();
    const retriedFor = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < MUTATIONS) {
        const i = next++;
        const key = `sync-${i}`;
        const outcome = await createRole(vigil, owner.token, key, `Role ${i}`, retriedFor);
        if (outcome.kind === 'ok') ok.set(key, outcome.id);
        else if (outcome.kind === 'lost') lost.add(key);
        if (++answered === crashAfter) crash.done = crashNow();
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, worker));
    const { stoppedAt, promotedAt, seqAtCrash } = await crash.done!;
    await waitFor(() => readiness.probes.some((p) => p.at > promotedAt && p.status === 200), SWITCH_BOUND_MS, 50).catch(() => {});
    await readiness.stop();

    // Readiness: 503 naming the database during the switch, 200 after, the new primary found within the bound.
    const during = readiness.probes.filter((p) => p.at > stoppedAt && p.status !== 200);
    const back = readiness.probes.find((p) => p.at > promotedAt && p.status === 200);
    expect(during.some((p) => p.status === 503 && p.failing?.includes('database'))).toBe(true);
    expect(back).toBeDefined();
    console.log(
      `failover (synchronous): ${MUTATIONS} mutations in ${Date.now() - started} ms from ${CLIENTS} clients, primary stopped after ${crashAfter} answers; ` +
        `promotion took ${promotedAt - stoppedAt} ms; /readyz 200 again ${back!.at - promotedAt} ms after the promotion (${back!.at - stoppedAt} ms after the crash); ` +
        `${ok.size} answered OK, ${lost.size} applied with their answer lost; retried for: ${[...retriedFor].join(', ') || 'nothing'}`,
    );
    expect(back!.at - promotedAt).toBeLessThanOrEqual(SWITCH_BOUND_MS);
    expect(vigil.exited()).toBe(false);
    expect(ok.size + lost.size).toBe(MUTATIONS);

    // Every answered OK is on the new primary with one journal entry; no key has two.
    const entries = await createdByKey(pair, 'standby', owner.tenantId);
    const missing = [...ok.keys()].filter((key) => entries.get(key) !== 1);
    expect(missing).toEqual([]);
    expect([...entries.values()].every((n) => n === 1)).toBe(true);
    expect([...lost].every((key) => entries.get(key) === 1)).toBe(true);
    const roles = await pair.standby.query<{ id: string }>('select id from role where tenant_id = $1 and id = any($2::uuid[])', [owner.tenantId, [...ok.values()]], 'vigil');
    expect(roles).toHaveLength(ok.size);

    // The subscriber open through it all, and one resuming from where the crash found it: every event once, in order.
    const head = await journalHead(pair, 'standby', owner.tenantId);
    const resumed = liveClient(vigil.url, { token: owner.token });
    cleanups.push(() => resumed.dispose());
    const again = collect<FeedItem>(resumed, FEED, { a: seqAtCrash });
    const latest = async () => journalHead(pair, 'standby', owner.tenantId);
    await again.until((items) => items.some((item) => item.auditEvents.seq >= head + 1), 15_000); // its own stream_opened comes last
    const expected = async (after: number) =>
      (await pair.standby.query<{ seq: number }>('select seq::int as seq from audit_event where tenant_id = $1 and seq > $2 order by seq', [owner.tenantId, after], 'vigil')).map((r) => r.seq);
    const end = await latest();
    await waitFor(() => seqsOf(again).at(-1) === end, 10_000, 50);
    expect(seqsOf(again)).toEqual(await expected(seqAtCrash));
    if (live.errors.length === 0) {
      await waitFor(() => seqsOf(live).at(-1)! >= end, 10_000, 50);
      expect(seqsOf(live)).toEqual((await expected(from)).filter((seq) => seq <= seqsOf(live).at(-1)!));
    } else {
      // Closed by the outage: what it got before is a prefix, in order, once each.
      expect(seqsOf(live)).toEqual((await expected(from)).slice(0, seqsOf(live).length));
    }
    console.log(`live feed: the subscriber open throughout got ${live.items.length} events (${live.errors.length ? 'closed by the outage' : 'never closed'}); the one resuming after seq ${seqAtCrash} got ${again.items.length}, each once`);

    // Chains: the company's through the API, and every journal against the signed checkpoints (npm run audit:verify).
    const client = new GraphQLClient(vigil.url);
    client.bearer = owner.token;
    expect((await client.ok<{ verifyAuditChain: { ok: boolean } }>('{ verifyAuditChain { ok } }')).verifyAuditChain.ok).toBe(true);
    const verified = await run('node_modules/.bin/node', ['--import', 'tsx', 'scripts/audit-verify.ts'], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: hostList(pair), VIGIL_HOME: home, LOG_LEVEL: 'warn' } });
    expect(verified.stdout).not.toMatch(/TAMPERED/);
    expect(verified.stdout).toMatch(new RegExp(`ok +${owner.tenantId}`));
  }, 90_000);

  test('negative control: asynchronous, walreceiver paused, primary killed: acknowledged events are lost, and journal.rollback_detected is raised', async () => {
    const { pair, vigil, home, owner } = await startOnPair('asynchronous');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) await createRole(vigil, owner.token, `before-${i}`, `Before ${i}`, seen);
    await waitFor(() => caughtUp(pair), 10_000, 50);

    const walReceiver = await walReceiverPid(pair.standby);
    process.kill(walReceiver, 'SIGSTOP');
    let paused = true;
    cleanups.push(() => paused && process.kill(walReceiver, 'SIGCONT'));
    const acked = new Set<string>();
    // About a second of writes, and on until the walsender holds WAL it could not send (beyond what the
    // socket buffers, which the resumed walreceiver still reads): that part is lost for sure with the primary.
    const until = Date.now() + 1_000;
    let unsentEnough = false;
    const writing = () => !unsentEnough || Date.now() < until;
    const watchUnsent = (async () => {
      const deadline = Date.now() + 15_000;
      while (!unsentEnough && Date.now() < deadline) {
        unsentEnough = (await unsentWal(pair)) > UNSENT_WAL_BYTES;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      unsentEnough = true;
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (writing()) {
          const key = `async-${next++}`;
          if ((await createRole(vigil, owner.token, key, `Async ${key}`, seen)).kind === 'ok') acked.add(key);
        }
      }),
    );
    await watchUnsent;
    const unsent = await unsentWal(pair);
    // Vigil signed the head the standby never received, outside the database.
    const primaryHead = await journalHead(pair, 'primary', owner.tenantId);
    const lastSigned = () => readCheckpoints(join(home, 'checkpoints'), owner.tenantId).at(-1)?.seq ?? 0;
    await waitFor(() => lastSigned() >= primaryHead, 10_000, 100);
    const signedHead = lastSigned();

    await pair.primary.stop('immediate');
    process.kill(walReceiver, 'SIGCONT');
    paused = false;
    await promote(pair.standby);
    const promotedAt = Date.now();
    await waitFor(async () => (await fetch(`${vigil.url}/readyz`).then((r) => r.status).catch(() => 0)) === 200, SWITCH_BOUND_MS, 50);
    console.log(`failover (asynchronous): /readyz 200 ${Date.now() - promotedAt} ms after the promotion`);

    const entries = await createdByKey(pair, 'standby', owner.tenantId);
    const gone = [...acked].filter((key) => !entries.has(key));
    // The head the new primary has, before anything was appended after the failover (the report itself).
    const [{ head }] = await pair.standby.query<{ head: number }>(
      `select coalesce(max(seq), 0)::int as head from audit_event where tenant_id = $1 and action <> 'journal.rollback_detected'`,
      [owner.tenantId],
      'vigil',
    );
    console.log(`negative control: ${acked.size} mutations answered OK while the walreceiver was paused (${unsent} bytes of WAL unsent at the crash), ${gone.length} of them lost; journal head ${head} on the new primary, ${signedHead} signed before the crash`);
    expect(gone.length).toBeGreaterThan(0);
    expect(head).toBeLessThan(signedHead);

    // The checkpoint job finds the head behind its last signature: reported in the company's journal and the platform's.
    type Report = { tenant_id: string; details: { tenantId: string; missingFromSeq: number; missingToSeq: number } };
    const reports = async () =>
      pair.standby.query<Report>(`select tenant_id, details from audit_event where action = 'journal.rollback_detected' and details->>'tenantId' = $1`, [owner.tenantId], 'vigil');
    await waitFor(async () => (await reports()).length === 2, 15_000, 200);
    const found = await reports();
    expect(found.map((r) => r.tenant_id).sort()).toEqual([owner.tenantId, PLATFORM_TENANT_ID].sort());
    expect(found[0].details).toMatchObject({ missingFromSeq: head + 1, missingToSeq: signedHead });
    expect(vigil.exited()).toBe(false);
  }, 90_000);
});

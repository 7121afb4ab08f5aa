// Compares this checkout's Vigil with another checkout's, side by side: `npm run bench:versus -- <dir>`
// (or `-- <dir> viewer fan-out` for some). For a refactoring that must keep the benchmarks "within
// noise": on these small shared machines `npm run bench` drifts by 10–15 % from one run to the next, more
// than a change's effect, so both servers run at once on fresh databases and take the same load in
// alternating windows (order swapped each round, the first round discarded as warm-up). Each checkout
// starts its own code (its bench/support/vigil.ts), the load is this checkout's. Prints this/other.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { signIn, signUp, signUpMany } from './support/accounts.ts';
import type { ChildServer } from './support/child-server.ts';
import { type Phase, loadPhase } from './support/compare.ts';
import { type BenchDatabase, findDatabaseServer, freshDatabase } from './support/database.ts';
import { requestBody, requestHeaders } from './support/graphql.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';
import { startVigil } from './support/vigil.ts';
import { saturated, vigilFeed } from './fan-out.ts';
import { signInLoad } from './sign-in.ts';

const ROUNDS = Number(process.env.BENCH_VERSUS_ROUNDS ?? 7);
const WINDOW_SECONDS = Number(process.env.BENCH_VERSUS_SECONDS ?? 5);

/** A load on one server; close() lets go of what it holds open (subscribers). */
type Side = Phase & { close?(): void };

/** One kind of load, set up the same way on either server. */
const LOADS: Record<string, (server: ChildServer) => Promise<Side>> = {
  viewer: async (server) => loadPhase(await viewerLoad('viewer', server.url, VIEWER_QUERY, await signIn(server.url, await signUp(server.url, 'versus-viewer')), 50)),
  'sign-in': async (server) => loadPhase(signInLoad('sign-in', server.url, await signUpMany(server.url, 'versus-sign-in', 32))),
  // A journal search records audit.read: the write path (transaction, append, publish) under load.
  journal: async (server) => {
    const token = await signIn(server.url, await signUp(server.url, 'versus-journal'));
    const request = { headers: requestHeaders(token), body: requestBody('{ auditEvents(first: 1) { edges { cursor } } }') };
    return loadPhase({ label: 'journal', baseUrl: server.url, connections: 16, requests: [request], expect: (body) => !body.includes('"errors"') });
  },
  'fan-out': async (server) => {
    const feed = await vigilFeed(server);
    return { ...saturated(feed), close: () => feed.subscribers.close() };
  },
};

async function main(): Promise<void> {
  const [other, ...asked] = process.argv.slice(2);
  const otherStart = other && resolve(other, 'bench/support/vigil.ts');
  if (!otherStart || !existsSync(otherStart)) {
    console.error('usage: npm run bench:versus -- <another checkout, with its npm ci done> [viewer|sign-in|journal|fan-out ...]');
    process.exit(2);
  }
  const names = asked.length ? asked : Object.keys(LOADS);
  const unknown = names.filter((name) => !LOADS[name]);
  if (unknown.length) throw new Error(`unknown load ${unknown.join(', ')}: one of ${Object.keys(LOADS).join(', ')}`);
  const startOther = ((await import(otherStart)) as { startVigil: typeof startVigil }).startVigil;
  const server = await findDatabaseServer();
  const rows: string[] = [];
  for (const name of names) {
    const databases: BenchDatabase[] = [freshDatabase(server), freshDatabase(server)];
    const servers = { this: await startVigil(databases[0], 2), other: await startOther(databases[1], 2) };
    try {
      const phases = { this: await LOADS[name](servers.this), other: await LOADS[name](servers.other) };
      const rates = { this: [] as number[], other: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of round % 2 ? (['other', 'this'] as const) : (['this', 'other'] as const)) {
          const measured = await phases[side].run(WINDOW_SECONDS);
          if (round > 0) rates[side].push(measured.perSecond);
        }
      }
      for (const phase of Object.values(phases)) phase.close?.();
      const ratio = mean(rates.this) / mean(rates.other);
      rows.push(`${name.padEnd(8)}  this ${mean(rates.this).toFixed(1).padStart(9)}/s  other ${mean(rates.other).toFixed(1).padStart(9)}/s  this/other ${ratio.toFixed(3)}`);
      console.log(`${name}: this ${rates.this.map((r) => r.toFixed(0)).join(' ')}; other ${rates.other.map((r) => r.toFixed(0)).join(' ')}`);
    } finally {
      await servers.this.stop();
      await servers.other.stop();
      for (const database of databases) await database.drop();
    }
  }
  console.log(`\nthis checkout vs ${resolve(other)}, ${ROUNDS - 1} rounds of ${WINDOW_SECONDS} s each side:`);
  for (const row of rows) console.log(row);
  process.exit(0);
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

await main();

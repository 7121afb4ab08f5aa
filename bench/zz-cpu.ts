import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signIn, signUp, signUpMany } from './support/accounts.ts';
import { startBareYoga } from './support/bare-yoga.ts';
import { BARE_QUERY, BARE_RESPONSE } from './support/bare-yoga.ts';
import { freshDatabase } from './support/database.ts';
import { requestBody, requestHeaders, post } from './support/graphql.ts';
import { type LoadSpec, runLoad } from './support/load.ts';
import { startVigil } from './support/vigil.ts';
import { VIEWER_QUERY, VIEWER_QUERY_NO_SESSION, viewerLoad } from './support/viewer-load.ts';
import { signInLoad } from './sign-in.ts';

const ticks = (pid: number) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const dbName = new URL(db.url!).pathname.slice(1);
const vigil = await startVigil(db, 2);
const bare = await startBareYoga();
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const pgPids = async () => (await admin.query('select pid from pg_stat_activity where datname = $1', [dbName])).rows.map((r) => r.pid as number);
async function cpu(label: string, spec: LoadSpec, serverPid: number) {
  await runLoad(spec, 3);
  const pids = await pgPids();
  const s0 = ticks(serverPid), p0 = pids.reduce((a, p) => a + ticks(p), 0), self0 = process.cpuUsage();
  const m = await runLoad(spec, 8);
  const s1 = ticks(serverPid), p1 = pids.reduce((a, p) => a + ticks(p), 0), self1 = process.cpuUsage(self0);
  const per = (t: number) => ((t * 10) / m.ok).toFixed(2);
  console.log(`${label}: ${m.perSecond.toFixed(0)}/s; CPU ms per ok response: server ${per(s1 - s0)}, postgres ${per(p1 - p0)}, load generator ${((self1.user + self1.system) / 1000 / m.ok).toFixed(2)}; failures ${JSON.stringify(m.failures)}`);
}
try {
  const account = await signUp(vigil.url, 'cpu');
  const token = await signIn(vigil.url, account);
  const { createApiKey } = await post<{ createApiKey: { secret: string } }>(vigil.url, 'mutation { createApiKey(input: { name: "bench", permissions: [] }) { secret } }', undefined, token);
  const conn = Number(process.env.CONN ?? 50);
  await cpu('bare', { label: 'bare', baseUrl: bare.url, connections: conn, requests: [{ headers: requestHeaders(), body: requestBody(BARE_QUERY) }], expect: BARE_RESPONSE }, bare.pid);
  await cpu('viewer session', await viewerLoad('v', vigil.url, VIEWER_QUERY, token, conn), vigil.pid);
  await cpu('viewer session no session field', await viewerLoad('v', vigil.url, VIEWER_QUERY_NO_SESSION, token, conn), vigil.pid);
  await cpu('viewer api key', await viewerLoad('v', vigil.url, VIEWER_QUERY_NO_SESSION, createApiKey.secret, conn), vigil.pid);
  const accounts = await signUpMany(vigil.url, 'cpu-s', 32);
  await cpu('sign-in', signInLoad('s', vigil.url, accounts), vigil.pid);
} finally {
  await admin.end();
  await bare.stop();
  await vigil.stop();
  await db.drop();
}

import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient } from '../test/support/client.ts';
import { signUpTenant } from '../test/support/factories.ts';
const home = mkdtempSync(join(tmpdir(), 'p-'));
const db = `postgres://postgres@127.0.0.1:5432/vigil_prof_${process.pid}`;
const child = spawn('node_modules/.bin/node', ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--import', 'tsx', 'server/src/main.ts'], { env: { PATH: process.env.PATH, PORT: '4777', LOG_LEVEL: 'silent', NODE_ENV: 'production', VIGIL_HOME: home, DATABASE_URL: db, DASHBOARD_DIR: '/nonexistent' }, stdio: 'inherit' });
const url = 'http://127.0.0.1:4777';
for (;;) { try { if ((await fetch(url + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
const owner = await signUpTenant(new GraphQLClient(url));
const body = JSON.stringify({ query: process.env.Q ?? '{ viewer { user { id email } tenant { slug } session { id } } }' });
const headers: Record<string, string> = { 'content-type': 'application/json' }; if (!process.env.ANON) headers.authorization = `Bearer ${owner.token}`;
const r = await autocannon({ url: `${url}/graphql`, connections: 50, duration: 8, method: 'POST', headers, body });
console.log('req/s', r.requests.average, 'non2xx', r.non2xx, 'p99', r.latency.p99);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

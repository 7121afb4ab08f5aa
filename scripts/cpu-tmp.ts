import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GraphQLClient } from '../test/support/client.ts';
import { signUpTenant } from '../test/support/factories.ts';
const script = process.argv[2];
const child = spawn('node_modules/.bin/node', [...(process.env.FLAGS ? process.env.FLAGS.split(' ') : []), '--import', 'tsx', script], { env: { PATH: process.env.PATH, PORT: '4779', LOG_LEVEL: 'silent', NODE_ENV: 'production', VIGIL_HOME: '/tmp/vh-' + process.pid, DASHBOARD_DIR: '/nonexistent', DATABASE_URL: `postgres://postgres@127.0.0.1:5432/vigil_c_${process.pid}` }, stdio: 'inherit' });
const url = 'http://127.0.0.1:4779';
for (;;) { try { if ((await fetch(url + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
const headers: Record<string, string> = { 'content-type': 'application/json' };
if (process.env.AUTH) headers.authorization = `Bearer ${(await signUpTenant(new GraphQLClient(url))).token}`;
const body = JSON.stringify({ query: process.env.Q ?? '{ __typename }' });
const cpu = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; };
await autocannon({ url: `${url}/graphql`, connections: 50, duration: 2, method: 'POST', headers, body });
const c0 = cpu();
const r = await autocannon({ url: `${url}/graphql`, connections: 50, duration: 6, method: 'POST', headers, body });
const used = cpu() - c0;
console.log(script.split('/').pop(), process.env.AUTH ? 'auth' : 'anon', process.env.Q ?? '', 'req/s', r.requests.average, 'server cpu µs/req', (used / r.requests.total).toFixed(0));
child.kill('SIGTERM'); await new Promise((res) => child.once('exit', res));

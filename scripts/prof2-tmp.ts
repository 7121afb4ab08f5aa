import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
const script = process.argv[2];
const child = spawn('node_modules/.bin/node', [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : []), '--import', 'tsx', script], { env: { PATH: process.env.PATH, PORT: '4778', LOG_LEVEL: 'silent', NODE_ENV: 'production', VIGIL_HOME: '/tmp/vh-' + process.pid, DASHBOARD_DIR: '/nonexistent', DATABASE_URL: `postgres://postgres@127.0.0.1:5432/vigil_p2_${process.pid}` }, stdio: 'inherit' });
const url = 'http://127.0.0.1:4778';
for (;;) { try { if ((await fetch(url + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
const body = JSON.stringify({ query: process.env.Q ?? '{ __typename }' });
for (let round = 0; round < 2; round++) {
  const r = await autocannon({ url: `${url}/graphql`, connections: 50, duration: 5, method: 'POST', headers: { 'content-type': 'application/json' }, body });
  console.log(script, 'req/s', r.requests.average);
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

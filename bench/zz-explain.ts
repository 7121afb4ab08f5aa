import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signIn, signUp } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { startVigil } from './support/vigil.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const vigil = await startVigil(db, 2);
try {
  const token = await signIn(vigil.url, await signUp(vigil.url, 'explain'));
  const sessionId = token.split('.')[0];
  const c = new pg.Client({ connectionString: db.url!.replace('postgres@', 'vigil_app@') });
  await c.connect();
  const tenant = (await c.query('select vigil_tenant_of_session($1) as t', [sessionId])).rows[0].t;
  let sql = readFileSync('/tmp/session-query.sql', 'utf8').trim();
  sql = sql.replaceAll('674bc26d-5d40-4641-abcd-54e61a34bfbf', tenant).replace('5e26230d-d70c-47fa-aff4-fb856039efc4', sessionId);
  await c.query('begin');
  await c.query(`select set_config('app.tenant_id', $1, true)`, [tenant]);
  for (let i = 0; i < 200; i++) await c.query(sql);
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) await c.query(sql);
  console.log('ms per query (round trip, same tx):', ((performance.now() - t0) / 500).toFixed(3));
  console.log((await c.query('explain (analyze, buffers) ' + sql)).rows.map((r) => r['QUERY PLAN']).join('\n'));
  await c.query('commit');
  const t1 = performance.now();
  for (let i = 0; i < 500; i++) { await c.query('begin'); await c.query(`select set_config('app.tenant_id', $1, true)`, [tenant]); await c.query(sql); await c.query('commit'); }
  console.log('ms per begin/set_config/select/commit:', ((performance.now() - t1) / 500).toFixed(3));
  const t2 = performance.now();
  for (let i = 0; i < 500; i++) await c.query('select 1');
  console.log('ms per select 1:', ((performance.now() - t2) / 500).toFixed(3));
  await c.end();
} finally {
  await vigil.stop();
  await db.drop();
}

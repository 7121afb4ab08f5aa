import pg from 'pg';
import { signIn, signUp } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { post } from './support/graphql.ts';
import { startVigil } from './support/vigil.ts';
import { VIEWER_QUERY, VIEWER_QUERY_NO_SESSION } from './support/viewer-load.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const name = new URL(db.url!).pathname.slice(1);
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query(`create database ${name}`);
await admin.query(`alter database ${name} set log_statement = 'all'`);
const vigil = await startVigil(db, 2);
try {
  const account = await signUp(vigil.url, 'sqlc');
  const token = await signIn(vigil.url, account);
  const { createApiKey } = await post<{ createApiKey: { secret: string } }>(vigil.url, 'mutation { createApiKey(input: { name: "bench", permissions: [] }) { secret } }', undefined, token);
  for (const [label, q, cred] of [['SESSIONVIEWER', VIEWER_QUERY, token], ['KEYVIEWER', VIEWER_QUERY_NO_SESSION, createApiKey.secret]] as const) {
    await post(vigil.url, q, undefined, cred);
    await admin.query(`select 'MARK-${label}-START'`);
    await post(vigil.url, q, undefined, cred);
    await admin.query(`select 'MARK-${label}-END'`);
  }
} finally {
  await admin.end();
  await vigil.stop();
  await db.drop();
}

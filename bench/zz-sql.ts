import pg from 'pg';
import { signIn, signUp } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { startVigil } from './support/vigil.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const name = new URL(db.url!).pathname.slice(1);
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query(`create database ${name}`);
await admin.query(`alter database ${name} set log_statement = 'all'`);
const vigil = await startVigil(db, 2);
try {
  const account = await signUp(vigil.url, 'sqlc');
  await signIn(vigil.url, account);
  await new Promise((r) => setTimeout(r, 500));
  console.log('MARKER', name);
  await signIn(vigil.url, account);
  await new Promise((r) => setTimeout(r, 500));
} finally {
  await admin.end();
  await vigil.stop();
  await db.drop();
}

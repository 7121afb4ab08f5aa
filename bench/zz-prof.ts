import { execSync } from 'node:child_process';
import { signIn, signUp } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { runLoad } from './support/load.ts';
import { startVigil } from './support/vigil.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const vigil = await startVigil(db, 2);
try {
  const account = await signUp(vigil.url, 'prof');
  const spec = await viewerLoad('v', vigil.url, VIEWER_QUERY, await signIn(vigil.url, account), Number(process.env.CONN ?? 50));
  await runLoad(spec, 3);
  setTimeout(() => console.log(execSync('top -b -n 2 -d 2 -w 200 | tail -22').toString()), 4000);
  const m = await runLoad(spec, 10);
  console.log(m.perSecond, m.p99Ms, m.failures);
} finally {
  await vigil.stop();
  await db.drop();
}

import { signUpMany } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { runLoad } from './support/load.ts';
import { startVigil } from './support/vigil.ts';
import { signInLoad } from './sign-in.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const vigil = await startVigil(db, 2);
try {
  const accounts = await signUpMany(vigil.url, 'dbg', 24);
  for (const n of [1, 2, 4, 8, 24]) {
    const spec = signInLoad('s', vigil.url, accounts.slice(0, n));
    const same = await runLoad(spec, 4);
    const distinct = await runLoad({ ...spec, requests: spec.requests.map((r, i) => ({ ...r, headers: { ...r.headers, 'x-forwarded-for': `10.0.0.${i + 1}` } })) }, 4);
    console.log(n, 'same ip', same.perSecond.toFixed(1), same.failures, '| xff', distinct.perSecond.toFixed(1), distinct.failures);
  }
} finally {
  await vigil.stop();
  await db.drop();
}

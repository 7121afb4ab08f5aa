import { signUpMany } from './support/accounts.ts';
import { freshDatabase } from './support/database.ts';
import { runLoad } from './support/load.ts';
import { startVigil } from './support/vigil.ts';
import { signInLoad } from './sign-in.ts';

const db = freshDatabase('postgres://postgres@127.0.0.1:5432/postgres');
const vigil = await startVigil(db, 2);
try {
  const accounts = await signUpMany(vigil.url, 'prof', 32);
  const m = await runLoad(signInLoad('s', vigil.url, accounts), 15);
  console.log(m.perSecond, m.failures);
  await new Promise((r) => setTimeout(r, 3000));
} finally {
  await vigil.stop();
  await db.drop();
}

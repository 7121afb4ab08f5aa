import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ROLE_VIEW, SESSION_VIEW, TENANT_VIEW, USER_VIEW } from '../../server/src/access/viewer.ts';
import { FUNCTION_NAMES, functionDefinition, normalizedDefinition } from '../../server/src/db/functions.ts';
import { signUpTenant } from '../support/factories.ts';
import { asOwner } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** Each SQL function is where its name says: db/functions/<name>.sql holds what the database runs. */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

test('every function of the database has its file, and every file is the definition the database has', async () => {
  const defined = await asOwner(vigil, (q) =>
    q<{ name: string; definition: string }>(
      "select p.proname as name, pg_get_functiondef(p.oid) as definition from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1",
    ),
  );
  expect(defined.map((f) => f.name)).toEqual([...FUNCTION_NAMES]);
  const files = readdirSync(new URL('../../server/src/db/functions/', import.meta.url)).map((file) => file.replace(/\.sql$/, '')).sort();
  expect(files).toEqual([...FUNCTION_NAMES]);
  for (const { name, definition } of defined) {
    expect({ name, sql: normalizedDefinition(definition) }).toEqual({ name, sql: normalizedDefinition(functionDefinition(name as (typeof FUNCTION_NAMES)[number])) });
  }
});

test("a credential's row is read as its view and nothing more: no password hash or TOTP secret rides along", async () => {
  const owner = await signUpTenant(vigil.client());
  const snapshot = (await vigil.services.credentials.session(owner.sessionId))!;
  expect(Object.keys(snapshot.tenant).sort()).toEqual([...TENANT_VIEW].sort());
  expect(Object.keys(snapshot.user).sort()).toEqual([...USER_VIEW, 'role'].sort());
  expect(Object.keys(snapshot.user.role).sort()).toEqual([...ROLE_VIEW].sort());
  expect(Object.keys(snapshot.session).sort()).toEqual([...SESSION_VIEW].sort());
  expect(snapshot.session.user).toEqual({ id: owner.userId });
  expect(snapshot.session.expiresAt).toBeInstanceOf(Date);
  expect(typeof snapshot.tenant.idleTimeoutSeconds).toBe('number');
  expect(JSON.stringify(snapshot.user)).not.toMatch(/argon2|password_?hash|totp_?secret/i);

  const account = (await vigil.services.credentials.signInAccount(owner.slug, owner.email))!;
  expect(account.user?.passwordHash).toMatch(/^\$argon2id\$/);
  expect(account.user?.id).toBe(owner.userId);
});

import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FUNCTION_NAMES, functionDefinition } from '../../server/src/db/functions.ts';
import { asOwner } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** Each SQL function is where its name says: db/functions/<name>.sql holds what the database runs. */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const normalized = (sql: string) =>
  sql
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .replace(/\s+/g, ' ')
    .trim();

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
    expect({ name, sql: normalized(definition) }).toEqual({ name, sql: normalized(functionDefinition(name as (typeof FUNCTION_NAMES)[number])) });
  }
});

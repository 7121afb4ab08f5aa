import { afterAll, beforeAll, expect, test } from 'vitest';
import { withOwnerOrm } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

test('the committed migrations produce exactly the schema the entities describe', async () => {
  const drift = await withOwnerOrm(vigil, (orm) => orm.schema.getUpdateSchemaSQL({ wrap: false }));
  expect(drift.trim()).toBe('');
});

test('starting again on a migrated database applies nothing new', async () => {
  const pending = await withOwnerOrm(vigil, (orm) => orm.migrator.getPending());
  expect(pending).toEqual([]);
});

import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { expect, test } from 'vitest';
import { opsSchema } from '../../server/src/platform/ops-schema.ts';
import { schema } from '../../server/src/schema.ts';

test('schema/schema.graphql is the printed Pothos schema (run `npm run schema` after changing it)', () => {
  const committed = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
  expect(committed).toBe(`${printSchema(schema)}\n`);
});

test("schema/ops.graphql is the printed operators' schema (run `npm run schema` after changing it)", () => {
  const committed = readFileSync(new URL('../../schema/ops.graphql', import.meta.url), 'utf8');
  expect(committed).toBe(`${printSchema(opsSchema)}\n`);
});

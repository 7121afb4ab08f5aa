/** Prints the Pothos schemas to schema/schema.graphql (tenants) and schema/ops.graphql (operators); a test fails when a committed file is stale. */
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { opsSchema } from '../server/src/platform/ops-schema.ts';
import { schema } from '../server/src/schema.ts';

writeFileSync(new URL('../schema/schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
writeFileSync(new URL('../schema/ops.graphql', import.meta.url), `${printSchema(opsSchema)}\n`);
console.log('schema/schema.graphql and schema/ops.graphql written');

/** Prints the Pothos schema to schema/schema.graphql; a test fails when the committed file is stale. */
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../server/src/schema.ts';

writeFileSync(new URL('../schema/schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
console.log('schema/schema.graphql written');

import { lexicographicSortSchema } from 'graphql';
import '../backups/backup-status.graphql.ts';
import './ops-critical.graphql.ts';
import './ops-support.graphql.ts';
import './ops.graphql.ts';
import { opsBuilder } from './ops-builder.ts';

/** The schema of /ops/graphql, printed to schema/ops.graphql. */
export const opsSchema = lexicographicSortSchema(opsBuilder.toSchema());

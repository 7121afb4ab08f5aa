import { Migrator } from '@mikro-orm/migrations';
import type { Options } from '@mikro-orm/postgresql';
import { fileURLToPath } from 'node:url';
import { entities } from '../entities.ts';
import { migrationsList } from './migrations/index.ts';
import { TenantSchemaGenerator } from './tenant-references.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** Options shared by the PostgreSQL and the embedded (PGlite) ORM. */
export const sharedOrmOptions = {
  entities,
  // The tenant-carrying schema generator replaces MikroORM's own (see tenant-references.ts).
  extensions: [Migrator, TenantSchemaGenerator],
  // Triggers, routines and grants live in the hand-written security migration, not in entity metadata.
  schemaGenerator: { ignoreTriggers: true, ignoreRoutines: true },
  migrations: {
    path: MIGRATIONS_DIR,
    migrationsList,
    snapshotOnMigrate: false,
    silent: true,
  },
  // Each request forks its own EntityManager; the global one must never be used to query.
  allowGlobalContext: false,
} satisfies Partial<Options>;

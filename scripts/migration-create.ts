/**
 * Generates a migration from the difference between the entities and the committed migrations,
 * on a throwaway embedded database, and lists it in migrations/index.ts.
 * Usage: npm run migration:create -- <name>
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MikroORM } from '@mikro-orm/pglite';
import { MIGRATIONS_DIR, sharedOrmOptions } from '../server/src/db/orm-options.ts';

const name = process.argv[2];
const orm = await MikroORM.init({ ...sharedOrmOptions, dbName: 'memory://' });
try {
  await orm.migrator.up();
  const result = await orm.migrator.create(MIGRATIONS_DIR, false, false, name);
  console.log(result.fileName ? `created ${result.fileName}` : 'no changes: nothing to generate');
} finally {
  await orm.close(true);
}

const classes = readdirSync(MIGRATIONS_DIR)
  .filter((file) => /^Migration\d+.*\.ts$/.test(file))
  .sort()
  .map((file) => basename(file, '.ts'));
writeFileSync(
  `${MIGRATIONS_DIR}/index.ts`,
  [
    ...classes.map((c) => `import { ${c} } from './${c}.ts';`),
    '',
    '/** Committed migrations, applied in this order on start. */',
    `export const migrationsList = [${classes.join(', ')}];`,
    '',
  ].join('\n'),
);


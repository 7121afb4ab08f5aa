import { MikroORM as PgliteORM } from '@mikro-orm/pglite';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { mkdirSync } from 'node:fs';
import type { Config } from '../config.ts';
import { sharedOrmOptions } from './orm-options.ts';
import { APP_ROLE, TENANT_FILTER, TENANT_SETTING } from './tenancy.ts';

export type Orm = MikroORM | PgliteORM;

export interface Database {
  /** True when running on the embedded PostgreSQL (PGlite) inside this process. */
  readonly embedded: boolean;
  readonly orm: Orm;
  /** An EntityManager for one tenant: the ORM filter (wall 1) and row-level security (wall 2) both apply. */
  forTenant(tenantId: string): EntityManager;
  /** An EntityManager with no tenant: it sees no tenant rows; for locator functions and the throttle only. */
  unscoped(): EntityManager;
  /**
   * One statement on the driver itself, prepared once per connection: for the per-request hot path
   * (authentication), where the ORM's query pipeline would cost more than the query. `$1`-style params.
   */
  prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Owner connection URL; absent means embedded. */
  databaseUrl?: string;
  appDatabaseUrl?: string;
  appDatabasePassword?: string;
  /** Embedded data directory, or 'memory://' for a throwaway database. */
  dataDir: string;
  debug?: boolean;
}

export function databaseOptionsFrom(config: Config): DatabaseOptions {
  return {
    databaseUrl: config.databaseUrl,
    appDatabaseUrl: config.appDatabaseUrl,
    appDatabasePassword: config.appDatabasePassword,
    dataDir: config.dataDir,
  };
}

/** Opens the database, applies pending migrations as the owner, and returns the application's view of it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const orm = options.databaseUrl ? await openServer(options, options.databaseUrl) : await openEmbedded(options);
  return wrap(orm, !options.databaseUrl);
}

async function openServer(options: DatabaseOptions, ownerUrl: string): Promise<MikroORM> {
  const owner = await MikroORM.init({ ...sharedOrmOptions, clientUrl: ownerUrl, debug: options.debug });
  try {
    await owner.schema.ensureDatabase({ create: true });
    await owner.migrator.up();
    if (options.appDatabasePassword) await setAppRolePassword(owner.em.fork(), options.appDatabasePassword);
  } finally {
    await owner.close(true);
  }
  return MikroORM.init({ ...sharedOrmOptions, clientUrl: appUrl(options, ownerUrl), debug: options.debug });
}

async function openEmbedded(options: DatabaseOptions): Promise<PgliteORM> {
  if (!options.dataDir.startsWith('memory:')) mkdirSync(options.dataDir, { recursive: true });
  const orm = await PgliteORM.init({ ...sharedOrmOptions, dbName: options.dataDir, debug: options.debug });
  await orm.migrator.up();
  // PGlite has one connection and no logins: the application role is taken for the rest of the session.
  await orm.em.getConnection().execute(`set role ${APP_ROLE}`);
  return orm;
}

/** The application logs in as APP_ROLE; migrations ran as the owner. */
function appUrl(options: DatabaseOptions, ownerUrl: string): string {
  if (options.appDatabaseUrl) return options.appDatabaseUrl;
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = options.appDatabasePassword ? encodeURIComponent(options.appDatabasePassword) : '';
  return url.toString();
}

async function setAppRolePassword(em: EntityManager, password: string): Promise<void> {
  const [{ statement }] = await em.execute<{ statement: string }[]>(
    `select format('alter role %I with login password %L', ?::text, ?::text) as statement`,
    [APP_ROLE, password],
  );
  await em.execute(statement);
}

/** What pg's Pool and PGlite have in common: a query that resolves with rows. */
interface NativeClient {
  query(textOrConfig: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

function wrap(orm: Orm, embedded: boolean): Database {
  return {
    embedded,
    orm,
    forTenant(tenantId) {
      const em = orm.em.fork({ session: { variables: { [TENANT_SETTING]: tenantId } } }) as EntityManager;
      em.setFilterParams(TENANT_FILTER, { id: tenantId });
      return em;
    },
    unscoped: () => orm.em.fork() as EntityManager,
    async prepared<T>(name: string, text: string, values: unknown[]) {
      const client = (await orm.em.getConnection().getNativeClient()) as NativeClient;
      const result = embedded ? await client.query(text, values) : await client.query({ name, text, values });
      return result.rows as T[];
    },
    close: () => orm.close(true),
  };
}

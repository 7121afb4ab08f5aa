import { MikroORM as PgliteORM } from '@mikro-orm/pglite';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { mkdirSync } from 'node:fs';
import { lockDataDir } from './embedded-lock.ts';
import type { Config } from '../config.ts';
import { postgresConnectionFailure } from './connection-errors.ts';
import { type PostgresServer, type PostgresTarget, postgresTarget } from './connection-url.ts';
import { type PrimaryLog, PrimaryTracker } from './primary.ts';
import { sharedOrmOptions } from './orm-options.ts';
import { auditOwner, auditApplicationRole } from './role-audit.ts';
import { APP_ROLE, OPS_ROLE, TENANT_FILTER, TENANT_SETTING } from './tenancy.ts';

export type Orm = MikroORM | PgliteORM;

export interface Database {
  /** True when running on the embedded PostgreSQL (PGlite) inside this process. */
  readonly embedded: boolean;
  /** How the application's connections travel: `tls` means each backend must report TLS (readiness checks it). */
  readonly transport: 'embedded' | PostgresTarget['transport'];
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
  /**
   * One transaction as OPS_ROLE, the platform operators' role, which has no grant on any tenant table:
   * what /ops/graphql reads and writes goes through here and nowhere else.
   */
  asOperatorRole<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
  /** True while the application's primary is being looked for after a failover (a host list only, db/primary.ts). */
  switchingPrimary(): boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Owner connection URL; absent means embedded. */
  databaseUrl?: string;
  appDatabaseUrl?: string;
  appDatabasePassword?: string;
  opsDatabasePassword?: string;
  /** CA of the server's certificate, for sslmode=verify-full URLs that do not name one. */
  caFile?: string;
  /** The application's statements are cancelled past this; 0 or absent: never. */
  statementTimeoutMs?: number;
  /** The application's pool size (MikroORM's default when absent); tests use 1 to prove no setting bleeds. */
  poolMax?: number;
  /** Embedded data directory, or 'memory://' for a throwaway database. */
  dataDir: string;
  debug?: boolean;
  /** Where a change of primary (a host list's failover) is logged. */
  log?: PrimaryLog;
  /**
   * Run on the owner's connection once the schema is current, before the application's role connects:
   * what only the owner may do to a database that was just opened (critical-ops/reapply-purges.ts).
   */
  afterMigrations?: (owner: EntityManager) => Promise<void>;
}

export function databaseOptionsFrom(config: Config): DatabaseOptions {
  return {
    databaseUrl: config.databaseUrl,
    appDatabaseUrl: config.appDatabaseUrl,
    appDatabasePassword: config.appDatabasePassword,
    opsDatabasePassword: config.opsDatabasePassword,
    caFile: config.databaseCaFile,
    statementTimeoutMs: config.statementTimeoutMs,
    dataDir: config.dataDir,
  };
}

/** Opens the database, applies pending migrations as the owner, and returns the application's view of it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const release = options.databaseUrl || options.dataDir.startsWith('memory:') ? () => {} : lockDataDir(options.dataDir);
  let opened: Opened;
  try {
    opened = options.databaseUrl ? await openServer(options, options.databaseUrl) : { orm: await openEmbedded(options), opsOrm: null, transport: 'embedded' as const, trackers: [] };
  } catch (error) {
    release();
    throw error;
  }
  const db = wrap(opened, release);
  try {
    await auditApplicationRole(db.unscoped());
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

interface Opened {
  orm: Orm;
  opsOrm: MikroORM | null;
  transport: Database['transport'];
  /** The application's first (the one readiness asks), then the owner's when it is another; none for a single host. */
  trackers: PrimaryTracker[];
}

async function openServer(options: DatabaseOptions, ownerUrl: string): Promise<Opened> {
  const owner = postgresTarget('DATABASE_URL', ownerUrl, options.caFile);
  const app = options.appDatabaseUrl ? postgresTarget('APP_DATABASE_URL', options.appDatabaseUrl, options.caFile) : roleTarget(owner, APP_ROLE, options.appDatabasePassword);
  // The operators' role, and the application's when it is derived from DATABASE_URL, follow the owner's primary.
  const ownerPrimary = await findPrimary('DATABASE_URL', owner, options);
  const appPrimary = options.appDatabaseUrl ? await findPrimary('APP_DATABASE_URL', app, options) : ownerPrimary;
  const trackers = [...new Set([appPrimary, ownerPrimary])].filter((tracker) => tracker !== null);
  const ownerOrm = await MikroORM.init(ormOptions(owner, options, {}, ownerPrimary));
  try {
    try {
      await ownerOrm.schema.ensureDatabase({ create: true });
      await auditOwner(ownerOrm.em.fork());
      await ownerOrm.migrator.up();
      if (options.appDatabasePassword) await setRolePassword(ownerOrm.em.fork(), APP_ROLE, options.appDatabasePassword);
      if (options.opsDatabasePassword) await setRolePassword(ownerOrm.em.fork(), OPS_ROLE, options.opsDatabasePassword);
    } catch (error) {
      throw postgresConnectionFailure('DATABASE_URL', owner, error);
    }
    await options.afterMigrations?.(ownerOrm.em.fork());
  } finally {
    await ownerOrm.close(true);
  }
  const appOrm = await MikroORM.init({
    ...ormOptions(app, options, { statement_timeout: options.statementTimeoutMs || undefined }, appPrimary),
    ...(options.poolMax ? { pool: { min: 1, max: options.poolMax } } : {}),
  });
  try {
    await appOrm.em.fork().execute('select 1');
  } catch (error) {
    await appOrm.close(true);
    throw postgresConnectionFailure(options.appDatabaseUrl ? 'APP_DATABASE_URL' : `DATABASE_URL as ${APP_ROLE}`, app, error);
  }
  const ops = roleTarget(owner, OPS_ROLE, options.opsDatabasePassword);
  // Two operators at most: a small pool, apart from the application's so that neither starves the other.
  const opsOrm = await MikroORM.init({ ...ormOptions(ops, options, { statement_timeout: options.statementTimeoutMs || undefined }, ownerPrimary), pool: { min: 0, max: 2 } });
  try {
    await opsOrm.em.fork().execute('select 1');
  } catch (error) {
    await Promise.all([appOrm.close(true), opsOrm.close(true)]);
    throw postgresConnectionFailure(`DATABASE_URL as ${OPS_ROLE}`, ops, error);
  }
  return { orm: appOrm, opsOrm, transport: app.transport, trackers };
}

/**
 * A host list: the server that is the primary now, and a tracker that follows it through failovers. A
 * single host: null, and the connections go where the URL says, as they always did.
 */
async function findPrimary(variable: string, target: PostgresTarget, options: DatabaseOptions): Promise<PrimaryTracker | null> {
  if (target.servers.length < 2) return null;
  const url = new URL(target.clientUrl);
  const login = { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) || undefined, database: decodeURIComponent(url.pathname.slice(1)) };
  const tracker = new PrimaryTracker(target.servers, login, options.log);
  try {
    await tracker.start();
  } catch (error) {
    throw postgresConnectionFailure(variable, (error as { server?: PostgresServer }).server ?? target, error);
  }
  return tracker;
}

/**
 * TLS is decided by Vigil (connection-url.ts) and handed to node-postgres explicitly. With a host list,
 * the pool's connections are made by the tracker's Client class, which picks host, port and TLS per server.
 */
function ormOptions(target: PostgresTarget, options: DatabaseOptions, pool: { statement_timeout?: number } = {}, primary: PrimaryTracker | null = null) {
  const driverOptions = { ssl: target.ssl, ...pool, ...(primary ? { Client: primary.Client } : {}) };
  return { ...sharedOrmOptions, clientUrl: target.clientUrl, driverOptions, debug: options.debug };
}

async function openEmbedded(options: DatabaseOptions): Promise<PgliteORM> {
  if (!options.dataDir.startsWith('memory:')) mkdirSync(options.dataDir, { recursive: true });
  const orm = await PgliteORM.init({ ...sharedOrmOptions, dbName: options.dataDir, debug: options.debug });
  await orm.migrator.up();
  try {
    await options.afterMigrations?.(orm.em.fork() as unknown as EntityManager);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  // PGlite has one connection and no logins: the application role is taken for the rest of the session.
  await orm.em.getConnection().execute(`set role ${APP_ROLE}`);
  if (options.statementTimeoutMs) await orm.em.getConnection().execute(`set statement_timeout = ${Math.floor(options.statementTimeoutMs)}`);
  return orm;
}

/** The application logs in as APP_ROLE (and the operators' endpoint as OPS_ROLE) to the owner's server and database, over the same transport. */
function roleTarget(owner: PostgresTarget, role: string, password: string | undefined): PostgresTarget {
  const servers = owner.servers.map((server) => ({ ...server, clientUrl: withLogin(server.clientUrl, role, password) }));
  return { ...owner, clientUrl: withLogin(owner.clientUrl, role, password), servers };
}

function withLogin(clientUrl: string, role: string, password: string | undefined): string {
  const url = new URL(clientUrl);
  url.username = role;
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

async function setRolePassword(em: EntityManager, role: string, password: string): Promise<void> {
  const [{ statement }] = await em.execute<{ statement: string }[]>(
    `select format('alter role %I with login password %L', ?::text, ?::text) as statement`,
    [role, password],
  );
  await em.execute(statement);
}

/**
 * Both walls for one tenant: the `tenant` filter's parameter (wall 1) and the transaction-local setting
 * row-level security reads (wall 2). Exported so that a test can run it on a connection that bypasses
 * row-level security and prove wall 1 alone.
 */
export function tenantEntityManager(orm: Orm, tenantId: string): EntityManager {
  const em = orm.em.fork({ session: { variables: { [TENANT_SETTING]: tenantId } } }) as EntityManager;
  em.setFilterParams(TENANT_FILTER, { id: tenantId });
  return em;
}

/** What pg's Pool and PGlite have in common: a query that resolves with rows. */
interface NativeClient {
  query(textOrConfig: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

function wrap({ orm, opsOrm, transport, trackers }: Opened, release: () => void): Database {
  const embedded = transport === 'embedded';
  return {
    embedded,
    transport,
    orm,
    forTenant: (tenantId) => tenantEntityManager(orm, tenantId),
    unscoped: () => orm.em.fork() as EntityManager,
    async prepared<T>(name: string, text: string, values: unknown[]) {
      const client = (await orm.em.getConnection().getNativeClient()) as NativeClient;
      const result = embedded ? await client.query(text, values) : await client.query({ name, text, values });
      return result.rows as T[];
    },
    // PGlite has one connection, whose session runs as APP_ROLE: the operators' transactions take OPS_ROLE
    // for their own duration (SET LOCAL), which the embedded superuser session may grant.
    asOperatorRole: (work) =>
      opsOrm
        ? (opsOrm.em.fork() as EntityManager).transactional(work)
        : (orm.em.fork() as EntityManager).transactional(async (em) => {
            await em.execute(`set local role ${OPS_ROLE}`);
            return work(em);
          }),
    switchingPrimary: () => trackers[0]?.switching ?? false,
    close: async () => {
      trackers.forEach((tracker) => tracker.close());
      try {
        await Promise.all([orm.close(true), opsOrm?.close(true)]);
      } finally {
        release();
      }
    },
  };
}

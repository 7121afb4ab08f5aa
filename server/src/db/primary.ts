import pg from 'pg';
import { ConfigError } from '../config-error.ts';
import { NOT_PRIMARY, databaseUnavailable, readOnlyTransaction } from './connection-errors.ts';
import type { PostgresServer } from './connection-url.ts';

/**
 * Which server of a host list (`DATABASE_URL=postgres://u@h1:5432,h2:5433/db`) is the primary now.
 * node-postgres has no libpq `target_session_attrs=read-write`, so Vigil asks each host
 * `pg_is_in_recovery()` itself, points every new pooled connection at the one that says false, and asks
 * again when a connection says the server went away or became read-only (a failover): one discovery at a
 * time, every POLL_MS until a primary answers (a standby being promoted) or DISCOVERY_BOUND_MS passed.
 * A single-host URL does not come here (database.ts): it behaves as it always did.
 */

/** How often the hosts are asked again while none is the primary: a promotion takes a few hundred ms. */
const POLL_MS = 250;
/** A discovery gives up after this long (and readiness stays 503); the next failing query starts another. */
const DISCOVERY_BOUND_MS = 30_000;
/** At start, how long to wait for a primary among hosts that are reachable but not primary (or down). */
const START_BOUND_MS = 15_000;
/** A host that does not answer within this is not the primary now (a black-holed address must not stall the search). */
const PROBE_TIMEOUT_MS = 1_000;
/** What a pooled connection waits for a host that does not answer, so a dead primary fails requests fast. */
const CONNECT_TIMEOUT_MS = 2_000;

/** Pino's Logger has it: a change of primary, or none found, is worth a line. */
export interface PrimaryLog {
  warn(fields: object, message: string): void;
}

/** Who the probes log in as: the pool's own user, so that a probe proves what the pool will be able to do. */
export interface ProbeLogin {
  user: string;
  password?: string;
  database: string;
}

type Probe = { server: PostgresServer; primary: boolean; error?: undefined } | { server: PostgresServer; primary: false; error: unknown };

/** A pooled connection, with the server it went to (so that a switch can retire the ones left on the old one). */
interface TrackedClient extends pg.Client {
  readonly server: PostgresServer;
}

export class PrimaryTracker {
  #current: PostgresServer;
  #switching = false;
  #discovery: Promise<void> | null = null;
  #closed = false;
  readonly #clients = new Set<TrackedClient>();
  /** The class handed to pg's Pool (`Client` option): each connection it makes goes to the primary of the moment. */
  readonly Client: typeof pg.Client;

  constructor(
    readonly servers: readonly PostgresServer[],
    private readonly login: ProbeLogin,
    private readonly log?: PrimaryLog,
  ) {
    this.#current = servers[0];
    this.Client = primaryClientClass(this);
  }

  /** Where new connections go. */
  get current(): PostgresServer {
    return this.#current;
  }

  /** True from the moment a discovery found the current server not to be the primary until another one is. */
  get switching(): boolean {
    return this.#switching;
  }

  /** At start: the primary, waiting a while for one (a standby being promoted); a TLS or login failure is thrown at once. */
  async start(): Promise<PostgresServer> {
    const deadline = Date.now() + START_BOUND_MS;
    for (;;) {
      const probes = await this.#probeAll();
      const primary = this.#pick(probes);
      if (primary) return (this.#current = primary);
      // Waiting cures a stopped or starting server, not a refused certificate or password.
      const hard = probes.find((probe) => probe.error !== undefined && !databaseUnavailable(probe.error));
      if (hard) throw Object.assign(hard.error as object, { server: hard.server });
      if (Date.now() > deadline) throw new ConfigError(`Refusing to start: no primary among ${summary(probes)}`);
      await sleep(POLL_MS);
    }
  }

  /** Every error of a pooled connection comes here: one saying the server went away or is read-only starts a discovery. */
  suspect(error: unknown): void {
    if (this.#closed || this.#discovery || !(databaseUnavailable(error) || readOnlyTransaction(error))) return;
    this.#discovery = this.#discover().finally(() => (this.#discovery = null));
  }

  /** Stops searching; the pools themselves are closed by their ORM. */
  close(): void {
    this.#closed = true;
  }

  track(client: TrackedClient): void {
    this.#clients.add(client);
    client.once('end', () => this.#clients.delete(client));
  }

  /** The current server still primary: nothing changes, and readiness never flapped. Otherwise poll until one is. */
  async #discover(): Promise<void> {
    const deadline = Date.now() + DISCOVERY_BOUND_MS;
    while (!this.#closed) {
      const probes = await this.#probeAll();
      const primary = this.#pick(probes);
      if (primary) return this.#switchTo(primary);
      this.#switching = true;
      if (Date.now() > deadline) {
        this.log?.warn({ servers: summary(probes) }, 'PostgreSQL: no primary found; still looking on the next failing query');
        return;
      }
      await sleep(POLL_MS);
    }
  }

  #switchTo(primary: PostgresServer): void {
    const moved = primary !== this.#current;
    this.#current = primary;
    this.#switching = false;
    if (!moved) return;
    this.log?.warn({ primary: nameOf(primary) }, 'PostgreSQL: the primary changed (failover); new connections go to it');
    // A connection left on the old server (demoted, yet reachable) would keep failing writes: end it. Its
    // stream is destroyed rather than the client ended, so that pg's pool sees an error and drops an idle one.
    for (const client of this.#clients) if (client.server !== primary) client.connection.stream.destroy();
  }

  async #probeAll(): Promise<Probe[]> {
    return Promise.all(
      this.servers.map((server) =>
        probe(server, this.login).then(
          (primary): Probe => ({ server, primary }),
          (error: unknown): Probe => ({ server, primary: false, error }),
        ),
      ),
    );
  }

  /** Two primaries at once (the old one back without being demoted): stay where the writes went so far. */
  #pick(probes: Probe[]): PostgresServer | null {
    const primaries = probes.filter((p) => p.primary).map((p) => p.server);
    return primaries.includes(this.#current) ? this.#current : (primaries[0] ?? null);
  }
}

/** `select pg_is_in_recovery()` on a connection of its own; a missing database (before the first start created it) is asked in `postgres`. */
async function probe(server: PostgresServer, login: ProbeLogin, database = login.database): Promise<boolean> {
  const client = new pg.Client({ ...login, database, host: server.host, port: server.port, ssl: server.ssl, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
  // A failure arrives through connect() or query(); a late 'error' event must not be an uncaught exception.
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
    return !rows[0].standby;
  } catch (error) {
    if ((error as { code?: string }).code === '3D000' && database !== 'postgres') return probe(server, login, 'postgres');
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * pg's Client, pointed at the primary of the moment when the pool makes it, checking on connect that the
 * server is not in recovery, and reporting its errors to the tracker: the pool, MikroORM and Kysely stay as
 * they are.
 */
function primaryClientClass(tracker: PrimaryTracker): typeof pg.Client {
  return class PrimaryClient extends pg.Client implements TrackedClient {
    readonly server: PostgresServer;

    constructor(config: pg.ClientConfig) {
      const server = tracker.current;
      super({ ...config, host: server.host, port: server.port, ssl: server.ssl, connectionTimeoutMillis: config.connectionTimeoutMillis ?? CONNECT_TIMEOUT_MS });
      this.server = server;
      tracker.track(this);
      this.on('error', (error) => tracker.suspect(error));
      // Statement errors (25006 on a demoted server, 57P01 as it shuts down) reach the caller, and the tracker
      // too: by the promise (Kysely), or by the callback (pg's Pool.query, which db.prepared uses).
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      this.query = ((...args: unknown[]) => {
        const callback = args.at(-1);
        if (typeof callback === 'function') {
          args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
            if (error) tracker.suspect(error);
            return callback(error, ...rest);
          };
        }
        const result = query(...args);
        if (result instanceof Promise) result.catch((error: unknown) => tracker.suspect(error));
        return result;
      }) as pg.Client['query'];
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((error: Error) => void) | ((error: null, client: pg.Client) => void)): void;
    override connect(given?: ((error: Error) => void) | ((error: null, client: pg.Client) => void)): Promise<pg.Client> | void {
      if (!given) return new Promise((resolve, reject) => this.connect((error: Error | null) => (error ? reject(error) : resolve(this))));
      // pg-pool calls connect with a callback; it is called once, with the error or with the client.
      const callback = given as (error: Error | null, client?: pg.Client) => void;
      super.connect((error: Error | null) => {
        if (error) {
          tracker.suspect(error);
          return callback(error);
        }
        this.#checkPrimary().then(
          () => callback(null, this),
          (refused: Error) => {
            tracker.suspect(refused);
            this.end().catch(() => {});
            callback(refused);
          },
        );
      });
    }

    /** A standby accepts connections and reads; Vigil must not take it for the primary. */
    async #checkPrimary(): Promise<void> {
      const { rows } = await super.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
      if (rows[0].standby) throw Object.assign(new Error(`PostgreSQL at ${nameOf(this.server)} is a standby (in recovery), not the primary`), { code: NOT_PRIMARY });
    }
  };
}

function nameOf(server: PostgresServer): string {
  return `${server.host}:${server.port}`;
}

function summary(probes: Probe[]): string {
  return probes.map((p) => `${nameOf(p.server)} (${p.error === undefined ? 'in recovery' : ((p.error as { code?: string }).code ?? (p.error as Error).message)})`).join(', ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { execFile, execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { guardAgainstOrphans } from './orphan-guard.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);

const PG_BIN = '/usr/lib/postgresql/15/bin';
const START_TIMEOUT_SECONDS = '30';

export interface PostgresClusterOptions {
  /** Files are copied into the cluster's directory: the server must own its key (mode 0600). */
  ssl?: { certFile: string; keyFile: string; caFile?: string };
  /** pg_hba accepts TCP only with TLS (hostssl); the unix socket stays open for query(). */
  hostSslOnly?: boolean;
  /** ssl_min_protocol_version; TLSv1.2 unless given. */
  minTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** postgresql.conf settings over this file's defaults (synchronous_commit, synchronous_standby_names…). */
  settings?: Record<string, string | number>;
  /** pg_hba also lets streaming replication in (pg_basebackup, a standby's walreceiver). */
  replication?: boolean;
  /**
   * Fills the (not yet existing) data directory instead of initdb, e.g. pg_basebackup from another cluster
   * (pg-standby.ts); `pgTool` runs a PostgreSQL tool as the server's OS user, in the cluster's directory.
   */
  initialize?: (dataDir: string, pgTool: (name: string, args: string[]) => Promise<void>) => Promise<void>;
}

export interface PostgresCluster {
  port: number;
  host: '127.0.0.1';
  dataDir: string;
  /** Where the server's unix socket is; query() connects there. */
  socketDir: string;
  logFile: string;
  /** postgresql://postgres@<host>:<port>/<database>; pass host 'localhost' to match a DNS:localhost certificate. */
  superuserUrl(database?: string, host?: string): string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the stopped cluster again, on the same port, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
  /** Runs one statement as the superuser over the unix socket, so it works whatever TCP demands. */
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<Row[]>;
}

interface OsUser {
  uid: number;
  gid: number;
}

/** A private PostgreSQL 15 cluster in a fresh temp directory, listening on 127.0.0.1 at a free port. */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  if (options.hostSslOnly && !options.ssl) throw new Error('hostSslOnly needs ssl: no TCP client could connect');
  const osUser = postgresOsUser();
  const baseDir = await mkdtemp(join(tmpdir(), 'vigil-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'server.log');
  const confFile = join(dataDir, 'vigil-test.conf');
  const pgTool = (name: string, args: string[]) => runPgTool(osUser, baseDir, name, args);
  let port = 0;
  let running = false;

  // If the test process dies with the cluster still up (vitest kills its workers), the guard stops it.
  const [stopCommand, stopArgs] = toolCommand(osUser, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  const guard = guardAgainstOrphans('dir=$1; shift; cd / && "$@" >/dev/null 2>&1; rm -rf "$dir"', [baseDir, stopCommand, ...stopArgs]);

  const writeConfig = () => writeFile(confFile, settings({ port, socketDir: baseDir, options, tlsDir: join(baseDir, 'tls') }));

  /** One pg_ctl start; on failure the error carries what the server logged during this attempt. */
  const startOnce = async () => {
    const logStart = await fileSize(logFile);
    try {
      await pgTool('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', START_TIMEOUT_SECONDS, '-s', 'start']);
    } catch (error) {
      const log = await readFrom(logFile, logStart);
      throw Object.assign(new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message}\n--- server log ---\n${tail(log)}`), { log });
    }
    running = true;
  };

  try {
    // The directory is the server's: when we are root, postgres runs as the postgres OS user.
    await chmod(baseDir, 0o700);
    if (osUser) chownSync(baseDir, osUser.uid, osUser.gid);
    if (options.initialize) await options.initialize(dataDir, pgTool);
    else await pgTool('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C']);
    if (options.ssl) await copyTlsFiles(options.ssl, join(baseDir, 'tls'), osUser);
    // A base backup's copy already includes it (and its vigil-test.conf is rewritten below, with this cluster's port).
    if (!(await readFile(join(dataDir, 'postgresql.conf'), 'utf8')).includes("include 'vigil-test.conf'")) await appendFile(join(dataDir, 'postgresql.conf'), "\ninclude 'vigil-test.conf'\n");
    await writeFile(join(dataDir, 'pg_hba.conf'), hbaLines(Boolean(options.hostSslOnly), Boolean(options.replication)));
    // A port found free may be taken by another test file before the server binds it: try another.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await writeConfig();
      try {
        await startOnce();
        break;
      } catch (error) {
        const log = (error as { log?: string }).log ?? '';
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(log)) throw error;
      }
    }
  } catch (error) {
    if (running) await pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-s', 'stop']).catch(() => {});
    await rm(baseDir, { recursive: true, force: true });
    guard.disarm();
    throw error;
  }

  return {
    port,
    host: '127.0.0.1',
    dataDir,
    socketDir: baseDir,
    logFile,
    superuserUrl(database = 'postgres', host = '127.0.0.1') {
      return `postgresql://postgres@${host}:${port}/${encodeURIComponent(database)}`;
    },
    async stop(mode = 'fast') {
      if (!running) return;
      await pgTool('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', START_TIMEOUT_SECONDS, '-s', 'stop']);
      running = false;
    },
    async start() {
      if (running) return;
      await startOnce();
    },
    async destroy() {
      try {
        if (running) await pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-s', 'stop']);
        running = false;
      } finally {
        await rm(baseDir, { recursive: true, force: true });
        guard.disarm();
      }
    },
    async query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = [], database = 'postgres') {
      const client = new pg.Client({ host: baseDir, port, user: 'postgres', database });
      try {
        await client.connect();
        return (await client.query<Row>(sql, params)).rows;
      } finally {
        // Also after a failed connect (a stopped cluster), so no socket is left behind.
        await client.end().catch(() => {});
      }
    },
  };
}

function settings(input: { port: number; socketDir: string; options: PostgresClusterOptions; tlsDir: string }): string {
  const values: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port: input.port,
    unix_socket_directories: input.socketDir,
    max_connections: 100,
    // A throwaway cluster: durability buys nothing and costs seconds.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '32MB',
    log_min_messages: 'warning',
    ...input.options.settings,
  };
  const ssl = input.options.ssl;
  if (ssl) {
    values.ssl = 'on';
    values.ssl_cert_file = join(input.tlsDir, 'server.crt');
    values.ssl_key_file = join(input.tlsDir, 'server.key');
    if (ssl.caFile) values.ssl_ca_file = join(input.tlsDir, 'ca.crt');
    values.ssl_min_protocol_version = input.options.minTlsVersion ?? 'TLSv1.2';
  }
  return Object.entries(values)
    .map(([key, value]) => `${key} = ${typeof value === 'number' ? value : `'${value.replace(/'/g, "''")}'`}`)
    .join('\n') + '\n';
}

/** `local` stays open (query() uses it); TCP is plain-or-TLS, or TLS only. `all` does not match replication connections. */
function hbaLines(hostSslOnly: boolean, replication: boolean): string {
  const type = hostSslOnly ? 'hostssl' : 'host';
  const lines = ['local all all trust', `${type} all all 127.0.0.1/32 trust`, `${type} all all ::1/128 trust`];
  if (replication) lines.push('local replication all trust', `${type} replication all 127.0.0.1/32 trust`);
  return lines.join('\n') + '\n';
}

async function copyTlsFiles(ssl: NonNullable<PostgresClusterOptions['ssl']>, tlsDir: string, osUser: OsUser | null): Promise<void> {
  await mkdir(tlsDir, { mode: 0o700 });
  const files: Array<[string, string, number]> = [
    [ssl.certFile, 'server.crt', 0o644],
    // PostgreSQL refuses a key that group or others may read.
    [ssl.keyFile, 'server.key', 0o600],
  ];
  if (ssl.caFile) files.push([ssl.caFile, 'ca.crt', 0o644]);
  for (const [from, name, mode] of files) {
    const to = join(tlsDir, name);
    await copyFile(from, to);
    await chmod(to, mode);
    if (osUser) chownSync(to, osUser.uid, osUser.gid);
  }
  if (osUser) chownSync(tlsDir, osUser.uid, osUser.gid);
}

/** initdb refuses to run as root, so as root the tools run as the postgres OS user. */
function postgresOsUser(): OsUser | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function toolCommand(osUser: OsUser | null, name: string, args: string[]): [string, string[]] {
  const binary = join(PG_BIN, name);
  return osUser ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

async function runPgTool(osUser: OsUser | null, cwd: string, name: string, args: string[]): Promise<void> {
  const [command, commandArgs] = toolCommand(osUser, name, args);
  try {
    // cwd: the postgres user may not be allowed into the test's working directory.
    await run(command, commandArgs, { cwd });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${name} ${args.at(-1)} failed: ${(stderr + stdout).trim() || String(error)}`, { cause: error });
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** What the server logged after `offset`: the current attempt's lines, not an earlier start's. */
async function readFrom(file: string, offset: number): Promise<string> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.subarray(offset).toString('utf8');
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { BackupSettings } from '../config.ts';
import { handToToolUser, runTool } from './os-command.ts';

export interface ScratchCluster {
  /** The restored database over the private socket, as the role that owns Vigil's schema. */
  url: string;
  /** The commit time of the last transaction the restore replayed: the point in time the copy stands at. */
  replayedUntil(): Promise<Date | null>;
  /** Where recovery stopped: the end of the last WAL record it applied. */
  replayedThrough(): Promise<string>;
  stop(): Promise<void>;
}

const SOCKET_PORT = 5432;
const PROMOTE_TIMEOUT_MS = 120_000;

/**
 * A restored data directory started as a server of its own, reachable only through a unix socket in a
 * directory its user alone may enter (no TCP, so nothing else on the host can read the copy), with
 * archiving off (it must never write a new timeline into the production repository) and no synchronous
 * standby to wait for. Returns once recovery has ended and it accepts writes.
 */
export async function startScratchCluster(
  settings: Pick<BackupSettings, 'runAs' | 'pgBinDir'>,
  restored: { dataDir: string; scratch: string; owner: string; database: string },
): Promise<ScratchCluster> {
  const { dataDir, scratch, owner, database } = restored;
  const socketDir = join(scratch, 'socket');
  await mkdir(socketDir, { mode: 0o700 });
  await handToToolUser(settings, socketDir);
  const hbaFile = join(scratch, 'drill_hba.conf');
  await writeFile(hbaFile, 'local all all trust\n', { mode: 0o644 });
  const overrides = {
    listen_addresses: '',
    port: String(SOCKET_PORT),
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    hba_file: hbaFile,
    ssl: 'off',
    archive_mode: 'off',
    synchronous_standby_names: '',
    logging_collector: 'off',
    cluster_name: 'vigil-restore-drill',
  };
  const options = Object.entries(overrides).map(([key, value]) => `-c ${key}='${value}'`).join(' ');
  const pgCtl = join(settings.pgBinDir, 'pg_ctl');
  const logFile = join(scratch, 'server.log');
  await handToToolUser(settings, scratch);
  await runTool(settings, pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '120', '-s', '-o', options, 'start'], { cwd: scratch });
  const query = async <Row extends pg.QueryResultRow>(sql: string): Promise<Row[]> => {
    const client = new pg.Client({ host: socketDir, port: SOCKET_PORT, user: owner, database });
    try {
      await client.connect();
      return (await client.query<Row>(sql)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  };
  const stop = () => runTool(settings, pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-s', 'stop'], { cwd: scratch }).then(() => {});
  try {
    await untilPromoted(query);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return {
    url: `postgresql://${encodeURIComponent(owner)}@${encodeURIComponent(socketDir)}:${SOCKET_PORT}/${encodeURIComponent(database)}`,
    replayedUntil: async () => (await query<{ at: Date | null }>('select pg_last_xact_replay_timestamp() as at'))[0]?.at ?? null,
    replayedThrough: async () => (await query<{ lsn: string }>('select pg_last_wal_replay_lsn()::text as lsn'))[0].lsn,
    stop,
  };
}

async function untilPromoted(query: <Row extends pg.QueryResultRow>(sql: string) => Promise<Row[]>): Promise<void> {
  const deadline = Date.now() + PROMOTE_TIMEOUT_MS;
  for (;;) {
    const [row] = await query<{ recovering: boolean }>('select pg_is_in_recovery() as recovering');
    if (!row.recovering) return;
    if (Date.now() > deadline) throw new Error('the restored copy was still recovering after 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PostgresCluster, startPostgresCluster } from './pg-cluster.ts';
import { waitFor } from './wait.ts';

/**
 * A primary and one streaming standby, as OPERATIONS.md §0 measured them: `pg_basebackup -R -C -S <slot>
 * -X stream` from the primary, the standby on its own port. Synchronous: `synchronous_standby_names =
 * 'ANY 1 (standby1)'` and `synchronous_commit = remote_apply` (a commit is acknowledged once the standby
 * applied it); asynchronous: `synchronous_commit = on`, nothing waits for the standby.
 */
export interface ReplicatedPair {
  primary: PostgresCluster;
  standby: PostgresCluster;
  destroy(): Promise<void>;
}

export const STANDBY_NAME = 'standby1';

export async function startReplicatedPair(mode: 'synchronous' | 'asynchronous'): Promise<ReplicatedPair> {
  const settings: Record<string, string> =
    mode === 'synchronous' ? { synchronous_standby_names: `ANY 1 (${STANDBY_NAME})`, synchronous_commit: 'remote_apply' } : { synchronous_commit: 'on' };
  const primary = await startPostgresCluster({ replication: true, settings: { ...settings, wal_level: 'replica' } });
  try {
    const standby = await startStandby(primary);
    return { primary, standby, destroy: async () => void (await Promise.allSettled([standby.destroy(), primary.destroy()])) };
  } catch (error) {
    await primary.destroy();
    throw error;
  }
}

/**
 * The standby keeps the test defaults and no synchronous_standby_names of its own: once promoted it is a
 * primary alone, whose commits must not wait for a standby that no longer exists.
 */
async function startStandby(primary: PostgresCluster): Promise<PostgresCluster> {
  const standby = await startPostgresCluster({
    replication: true,
    settings: { hot_standby: 'on', synchronous_commit: 'on' },
    initialize: async (dataDir, pgTool) => {
      await pgTool('pg_basebackup', ['-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres', '-D', dataDir, '-R', '-C', '-S', STANDBY_NAME, '-X', 'stream', '--no-sync']);
      // -R wrote primary_conninfo from pg_basebackup's own connection; the name is what synchronous_standby_names matches.
      await appendFile(join(dataDir, 'postgresql.auto.conf'), `primary_conninfo = 'host=${primary.socketDir} port=${primary.port} user=postgres application_name=${STANDBY_NAME}'\n`);
    },
  });
  await waitFor(async () => (await primary.query('select 1 from pg_stat_replication where application_name = $1 and state = $2', [STANDBY_NAME, 'streaming'])).length === 1, 20_000, 50);
  return standby;
}

/** `select pg_promote()`: waits (up to 60 s) until the standby accepts writes. */
export async function promote(standby: PostgresCluster): Promise<void> {
  const [{ promoted }] = await standby.query<{ promoted: boolean }>('select pg_promote(true, 60) as promoted');
  if (!promoted) throw new Error('the standby was not promoted');
}

/** The standby's walreceiver process, to pause with SIGSTOP (what a slow or cut link does to asynchronous replication). */
export async function walReceiverPid(standby: PostgresCluster): Promise<number> {
  const rows = await standby.query<{ pid: number }>('select pid from pg_stat_wal_receiver');
  if (!rows[0]?.pid) throw new Error('the standby has no walreceiver');
  return rows[0].pid;
}

/** The standby replayed everything the primary has written so far. */
export async function caughtUp(pair: ReplicatedPair): Promise<boolean> {
  const [{ lsn }] = await pair.primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  const [{ behind }] = await pair.standby.query<{ behind: boolean }>('select pg_last_wal_replay_lsn() < $1::pg_lsn as behind', [lsn]);
  return !behind;
}

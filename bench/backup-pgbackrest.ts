// The server half of the backup figure: a PostgreSQL 15 cluster archived and backed up by pgBackRest, as
// README "Backups and failover" sets one up (repository 1 an S3-compatible bucket over HTTPS, repository 2
// a local path, both encrypted), against tar czf / tar xzf of the same data directory in the same run.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runDrill } from '../server/src/backups/drill.ts';
import { restorePgbackrest } from '../server/src/backups/restore.ts';
import { takeBackup } from '../server/src/backups/take-backup.ts';
import { loadConfig } from '../server/src/config.ts';
import { type PostgresCluster, startPostgresCluster } from '../test/support/pg-cluster.ts';
import { prepareStanza } from '../test/support/pgbackrest-stanza.ts';
import { startS3 } from '../test/support/s3-server.ts';
import type { BenchContext } from './support/benchmark.ts';
import { duMegabytes, fill, withVigil } from './support/backup-fill.ts';

const run = promisify(execFile);

/** The figures, as note lines; one round (a full backup into both repositories takes seconds, not milliseconds). */
export async function pgbackrestFigures(ctx: BenchContext, targetMb: number): Promise<string[]> {
  if (!(await run('pgbackrest', ['version']).catch(() => null))) return ['pgBackRest: not installed here (apt-get install pgbackrest), not measured'];
  const s3 = await startS3();
  ctx.onCleanup(() => s3.stop());
  const stanza = prepareStanza(s3);
  ctx.onCleanup(async () => stanza.destroy());
  const cluster = await startPostgresCluster({ settings: { wal_level: 'replica', archive_mode: 'on', archive_command: stanza.archiveCommand } });
  ctx.onCleanup(() => cluster.destroy());
  stanza.writeFor(cluster);
  const home = await mkdtemp(join(tmpdir(), 'vigil-bench-pgbackrest-'));
  ctx.onCleanup(() => rm(home, { recursive: true, force: true }));
  const config = loadConfig({
    VIGIL_HOME: home, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DASHBOARD_DIR: join(home, 'no-dashboard'),
    DATABASE_URL: cluster.superuserUrl(), PGBACKREST_CONFIG: stanza.configFile, ...(stanza.runAs ? { BACKUP_RUN_AS: stanza.runAs } : {}),
  });

  await withVigil(config, (services, url) => fill(services, url, cluster.dataDir, targetMb));
  const mb = await duMegabytes(cluster.dataDir);
  const scratch = await mkdtemp(join(tmpdir(), 'vigil-bench-tar-'));
  ctx.onCleanup(() => rm(scratch, { recursive: true, force: true }));
  // tar copies the closed directory (a running server changes its files under tar); pgBackRest copies it live.
  await cluster.stop('fast');
  const tarC = await timed(() => run('tar', ['czf', join(scratch, 'data.tar.gz'), '-C', cluster.dataDir, '.']));
  const tarX = await timed(() => run('tar', ['xzf', join(scratch, 'data.tar.gz'), '-C', scratch]));
  await cluster.start();

  // The first backup also creates the stanza and checks the archive: timed apart from the second, the figure.
  const [first, backup] = await withVigil(config, async (services) => [await timed(() => takeBackup(services)), await timed(() => takeBackup(services))]);
  const restoreDir = join(tmpdir(), `vigil-bench-restore-${process.pid}`);
  ctx.onCleanup(() => rm(restoreDir, { recursive: true, force: true }));
  const restore = await timed(() => restorePgbackrest(config, restoreDir));
  const drill = await withVigil(config, (services) => runDrill(services));
  return summary(cluster, mb, { tarC, tarX, first, backup, restore, drill });
}

function summary(cluster: PostgresCluster, mb: number, t: { tarC: number; tarX: number; first: number; backup: number; restore: number; drill: Awaited<ReturnType<typeof runDrill>> }): string[] {
  const rate = (seconds: number) => mb / seconds;
  const drillSeconds = t.drill.durationMs / 1000;
  return [
    `pgBackRest, PostgreSQL 15 cluster of ${mb.toFixed(1)} MB (du of ${cluster.dataDir}), one round: full backup into both repositories (s3rver over HTTPS on loopback and a local path, aes-256-cbc, gz level 1) ` +
      `${rate(t.backup).toFixed(1)} MB/s (${t.backup.toFixed(1)} s; the first, which created the stanza, ${t.first.toFixed(1)} s) vs tar czf ${rate(t.tarC).toFixed(1)} MB/s: ratio ${(t.tarC / t.backup).toFixed(2)}`,
    `pgBackRest restore from repository 1 ${rate(t.restore).toFixed(1)} MB/s vs tar xzf ${rate(t.tarX).toFixed(1)} MB/s: ratio ${(t.tarX / t.restore).toFixed(2)}`,
    `pgBackRest drill ${t.drill.passed ? 'passed' : `FAILED (${t.drill.problems.join('; ')})`} in ${drillSeconds.toFixed(1)} s (verify, restore of repository 1, a scratch server started, replay checked, chains re-verified, served): ` +
      `drill / tar xzf time ${(drillSeconds / t.tarX).toFixed(1)}`,
  ];
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

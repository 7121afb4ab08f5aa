// The backup figure: how fast the embedded database copies itself (takeEmbeddedBackup) and comes back
// (restoreEmbedded), against tar czf / tar xzf of the same closed data directory in the same run, and how long
// the restore drill takes. In this process, not a child: the copy is a job of the server, not a request.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackupEntry } from '../server/src/backups/catalogue.ts';
import { runDrill } from '../server/src/backups/drill.ts';
import { restoreEmbedded } from '../server/src/backups/restore.ts';
import { takeEmbeddedBackup } from '../server/src/backups/take-backup.ts';
import { loadConfig } from '../server/src/config.ts';
import { pgbackrestFigures } from './backup-pgbackrest.ts';
import type { Benchmark } from './support/benchmark.ts';
import { duMegabytes, fill, withVigil } from './support/backup-fill.ts';
import type { Measurement } from './support/load.ts';

const run = promisify(execFile);

/** A fresh embedded data directory is ~40 MB (catalogues, Vigil's schema, one 16 MB WAL segment). */
const DEFAULT_SIZE_MB = 50;

/** BENCH_BACKUP_MB: the data directory's size (du) to fill to; read the way settings.ts reads its knobs. */
function targetMegabytes(): number {
  const raw = process.env.BENCH_BACKUP_MB;
  if (raw === undefined || raw === '') return DEFAULT_SIZE_MB;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`BENCH_BACKUP_MB must be a positive integer, got "${raw}"`);
  return value;
}

export const backupBenchmark: Benchmark = {
  name: 'backup',
  title: 'embedded backup MB/s (data directory size / s) vs tar czf of the same closed directory; restore vs tar xzf; drill time; the same for pgBackRest (notes)',
  target: 0.5,
  async run(ctx) {
    const home = await mkdtemp(join(tmpdir(), 'vigil-bench-backup-'));
    ctx.onCleanup(() => rm(home, { recursive: true, force: true }));
    const config = loadConfig({ VIGIL_HOME: home, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DASHBOARD_DIR: join(home, 'no-dashboard') });
    const scratch = join(home, 'scratch');
    const archive = join(scratch, 'data.tar.gz');

    const fillStarted = performance.now();
    const filled = await withVigil(config, (services, url) => fill(services, url, config.dataDir, targetMegabytes()));
    const sizeMb = await duMegabytes(config.dataDir);
    // The WAL grows in 16 MB segments, mostly not yet written: what tar and the copy compress away.
    const walMb = await duMegabytes(join(config.dataDir, 'pg_wal'));
    ctx.log(`  filled to ${sizeMb.toFixed(1)} MB in ${seconds(fillStarted).toFixed(1)} s: ${filled.companies} companies, ${filled.events} journal events`);

    const tarC: Step[] = [];
    const tarX: Step[] = [];
    const backups: Step[] = [];
    const restores: Step[] = [];
    let stored: BackupEntry | undefined;
    for (let round = 1; round <= ctx.settings.rounds; round++) {
      // Each round's size: every copy adds its own journal events (a few rows).
      const mb = await duMegabytes(config.dataDir);
      await mkdir(join(scratch, 'tar-x'), { recursive: true });
      tarC.push(await step(mb, () => run('tar', ['czf', archive, '-C', config.dataDir, '.'])));
      tarX.push(await step(mb, () => run('tar', ['xzf', archive, '-C', join(scratch, 'tar-x')])));
      const archiveMb = (await stat(archive)).size / 2 ** 20;
      await rm(scratch, { recursive: true, force: true });
      backups.push(await withVigil(config, (services) => step(mb, async () => void (stored = await takeEmbeddedBackup(services)))));
      await mkdir(join(scratch, 'restored'), { recursive: true });
      restores.push(await step(mb, () => restoreEmbedded(config, stored!, join(scratch, 'restored'))));
      await rm(scratch, { recursive: true, force: true });
      const storedMb = Object.values(stored!.files).reduce((sum, file) => sum + file.bytes, 0) / 2 ** 20;
      ctx.log(
        `    round ${round}, ${mb.toFixed(1)} MB: tar czf ${tarC.at(-1)!.seconds.toFixed(2)} s (${archiveMb.toFixed(1)} MB), backup ${backups.at(-1)!.seconds.toFixed(2)} s ` +
          `(${storedMb.toFixed(1)} MB stored, encrypted); tar xzf ${tarX.at(-1)!.seconds.toFixed(2)} s, restore ${restores.at(-1)!.seconds.toFixed(2)} s`,
      );
    }

    const drill = await withVigil(config, (services) => runDrill(services));
    const drillSeconds = drill.durationMs / 1000;
    const tarXSeconds = tarX.reduce((sum, s) => sum + s.seconds, 0) / tarX.length;
    const baseline = throughput(`tar czf of the closed ${sizeMb.toFixed(0)} MB data directory, MB`, tarC);
    const figure = throughput('takeEmbeddedBackup, MB of data directory', backups);
    if (!drill.passed) figure.failures['drill failed'] = 1;
    const restoreRate = throughput('restoreEmbedded', restores).perSecond;
    const tarXRate = throughput('tar xzf', tarX).perSecond;
    return {
      baseline,
      figure,
      roundRatios: backups.map((b, i) => rateOf(b) / rateOf(tarC[i])),
      notes: [
        `data directory ${sizeMb.toFixed(1)} MB (du -sk after the fill, database closed; pg_wal ${walMb.toFixed(1)} MB of it): ${filled.companies} companies, ${filled.events} journal events (audit.read), checkpoints signed`,
        `restore: restoreEmbedded ${restoreRate.toFixed(1)} MB/s vs tar xzf ${tarXRate.toFixed(1)} MB/s: ratio ${(restoreRate / tarXRate).toFixed(2)}; by round: ${restores.map((r, i) => (rateOf(r) / rateOf(tarX[i])).toFixed(2)).join(', ')}`,
        `drill ${drill.passed ? 'passed' : `FAILED (${drill.problems.join('; ')})`} in ${drillSeconds.toFixed(1)} s (restore, chains and checkpoints re-verified, a Vigil process served it and signed in); ` +
          `tar xzf of the same data took ${tarXSeconds.toFixed(2)} s: drill / tar xzf time ${(drillSeconds / tarXSeconds).toFixed(1)}`,
        ...(await pgbackrestFigures(ctx, targetMegabytes())),
      ],
    };
  },
};

/** One timed operation on `mb` of data directory. */
interface Step {
  mb: number;
  seconds: number;
}

async function step(mb: number, work: () => Promise<unknown>): Promise<Step> {
  const started = performance.now();
  await work();
  return { mb, seconds: seconds(started) };
}

const seconds = (since: number) => (performance.now() - since) / 1000;
const rateOf = (s: Step) => s.mb / s.seconds;

/** Steps as the report reads a measurement: `ok` counts MB, the latencies are per operation. */
function throughput(label: string, steps: Step[]): Measurement {
  const mb = steps.reduce((sum, s) => sum + s.mb, 0);
  const total = steps.reduce((sum, s) => sum + s.seconds, 0);
  return {
    label,
    connections: 1,
    durationSeconds: total,
    ok: Math.round(mb),
    perSecond: mb / total,
    p99Ms: Math.max(...steps.map((s) => s.seconds * 1000)),
    meanMs: (total * 1000) / steps.length,
    failures: {},
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
  };
}

// Runs the benchmarks: `npm run bench` for all, `npm run bench -- viewer api-key` for some.
// Every figure is a ratio against a baseline measured in this same run: the machines are noisy.
// A measurement, not a test: the exit code is 0 even below target (non-zero only on bad usage).
import { availableParallelism, cpus, loadavg } from 'node:os';
import { apiKeyBenchmark } from './api-key.ts';
import { backupBenchmark } from './backup.ts';
import { backstopFanOutBenchmark, backstopViewerBenchmark } from './backstop.ts';
import { fanOutBenchmark } from './fan-out.ts';
import { signInFloodBenchmark } from './sign-in-flood.ts';
import { signInBenchmark } from './sign-in.ts';
import { viewerBenchmark } from './viewer.ts';
import { webhooksAppendBenchmark, webhooksBenchmark } from './webhooks.ts';
import { startBareYoga } from './support/bare-yoga.ts';
import type { BenchContext, Benchmark } from './support/benchmark.ts';
import { freshDatabase, findDatabaseServer } from './support/database.ts';
import { type Row, describeMeasurement, printTable, ratioOf } from './support/report.ts';
import { loadSettings } from './support/settings.ts';
import { startVigil } from './support/vigil.ts';

// ---------------------------------------------------------------------------------------------
// The registry. One script per figure; they run in this order.
const BENCHMARKS: Benchmark[] = [
  viewerBenchmark,
  signInBenchmark,
  signInFloodBenchmark,
  apiKeyBenchmark,
  fanOutBenchmark,
  backstopViewerBenchmark,
  backstopFanOutBenchmark,
  backupBenchmark,
  webhooksBenchmark,
  webhooksAppendBenchmark,
];
/** These measure the embedded database itself, in a VIGIL_HOME of their own: they need no PostgreSQL server. */
const EMBEDDED_ONLY: Benchmark[] = [backupBenchmark];
// ---------------------------------------------------------------------------------------------

type Cleanup = () => Promise<void>;
/** What the running benchmark started, stopped in reverse order after it (or on Ctrl-C). */
const cleanups: Cleanup[] = [];

async function cleanUp(): Promise<void> {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) {
    await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
  }
}

function selected(names: string[]): Benchmark[] {
  if (!names.length) return BENCHMARKS;
  // A name that is no benchmark's selects its family: `webhooks` runs webhooks-delivery and webhooks-append.
  const matches = (b: Benchmark, name: string) => b.name === name || (!BENCHMARKS.some((other) => other.name === name) && b.name.startsWith(`${name}-`));
  const unknown = names.filter((name) => !BENCHMARKS.some((b) => matches(b, name)));
  if (unknown.length) {
    console.error(`Unknown benchmark: ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  return BENCHMARKS.filter((b) => names.some((name) => matches(b, name)));
}

async function main(): Promise<void> {
  const benchmarks = selected(process.argv.slice(2));
  const settings = loadSettings();
  const embeddedOnly = benchmarks.every((b) => EMBEDDED_ONLY.includes(b));
  const server = embeddedOnly ? null : await findDatabaseServer();
  console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${loadAverage()}`);
  console.log(`database: ${server ? new URL(server).host : 'embedded PGlite'}; settings: ${JSON.stringify(settings)}`);
  if (!server && !embeddedOnly) console.warn('WARNING: no PostgreSQL server found, Vigil runs on the embedded PGlite: its figures are not representative.');

  const context: BenchContext = {
    settings,
    log: (line) => console.log(line),
    async startVigil(env = {}) {
      const database = freshDatabase(server);
      cleanups.push(() => database.drop());
      const vigil = await startVigil(database, settings.passwordHashConcurrency, env);
      cleanups.push(() => vigil.stop());
      return vigil;
    },
    onCleanup: (cleanup) => void cleanups.push(cleanup),
    async startBareYoga() {
      const bare = await startBareYoga();
      cleanups.push(() => bare.stop());
      return bare;
    },
  };

  const rows: Row[] = [];
  for (const benchmark of benchmarks) {
    console.log(`\n== ${benchmark.name}: ${benchmark.title}`);
    try {
      const outcome = await benchmark.run(context);
      rows.push({ benchmark, outcome });
      console.log(`  baseline: ${outcome.baseline.label}: ${describeMeasurement(outcome.baseline)}`);
      console.log(`  figure:   ${outcome.figure.label}: ${describeMeasurement(outcome.figure)}`);
      for (const note of outcome.notes) console.log(`  note: ${note}`);
      const rounds = outcome.roundRatios.map((r) => r.toFixed(2)).join(', ');
      console.log(`  ratio ${ratioOf(outcome).toFixed(2)} (target >= ${benchmark.target}); by round: ${rounds}`);
    } catch (error) {
      console.error(`  ${benchmark.name} failed:`, error);
      rows.push({ benchmark, error: error instanceof Error ? error.message.split('\n')[0] : String(error) });
    } finally {
      await cleanUp();
    }
  }
  printTable(rows);
  // Other work on the machine during the run skews a ratio even when both sides share it.
  console.log(`At the end: ${loadAverage()}`);
}

function loadAverage(): string {
  return `load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`;
}

process.once('SIGINT', () => {
  void cleanUp().then(() => process.exit(130));
});
await main();

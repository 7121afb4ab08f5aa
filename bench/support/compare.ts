import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext, Comparison } from './benchmark.ts';
import { type LoadSpec, type Measurement, runLoad } from './load.ts';
import { describeMeasurement } from './report.ts';

/** One side of a comparison: something that can run for a given time and say how it went. */
export interface Phase {
  label: string;
  run(seconds: number): Promise<Measurement>;
}

export function loadPhase(spec: LoadSpec): Phase {
  return { label: spec.label, run: (seconds) => runLoad(spec, seconds) };
}

/**
 * Stopped load leaves up to one request per connection queued on the server: let them finish, so they
 * neither weigh on the next run (queued sign-ins would slow the baseline) nor overlap with it (two
 * sign-ins of one account at once are a case of their own). At the measured rate, with a margin.
 */
export function drain(measured: Measurement): Promise<void> {
  const queuedMs = (1000 * measured.connections) / Math.max(measured.perSecond, 1);
  return sleep(Math.min(15_000, Math.max(1000, 1.5 * queuedMs)));
}


/**
 * Measures both sides for the same total time, interleaved: baseline (half a segment), then per round
 * figure and baseline, the last baseline again half a segment. On a shared, noisy machine a drift or a
 * burst of other work then weighs on both sides alike. Each side is warmed up first, and that discarded.
 */
export async function compare(ctx: BenchContext, baseline: Phase, figure: Phase): Promise<Comparison> {
  const { warmupSeconds, durationSeconds, rounds } = ctx.settings;
  const segment = Math.ceil(durationSeconds / rounds);
  const half = Math.ceil(segment / 2);
  const step = async (phase: Phase, seconds: number, what: string) => {
    const measured = await phase.run(seconds);
    await drain(measured);
    ctx.log(`    ${what} ${phase.label}: ${describeMeasurement(measured)}`);
    return measured;
  };
  ctx.log(`  ${warmupSeconds} s warm-up each, then ${rounds} round(s) of ${segment} s figure between baseline runs (${half} s at either end)`);
  await step(baseline, warmupSeconds, 'warm-up ');
  await step(figure, warmupSeconds, 'warm-up ');
  const baselines = [await step(baseline, half, 'baseline')];
  const figures: Measurement[] = [];
  for (let round = 1; round <= rounds; round++) {
    figures.push(await step(figure, segment, 'figure  '));
    baselines.push(await step(baseline, round === rounds ? half : segment, 'baseline'));
  }
  const roundRatios = figures.map((f, i) => f.perSecond / ((baselines[i].perSecond + baselines[i + 1].perSecond) / 2 || 1));
  return { baseline: merge(baselines), figure: merge(figures), roundRatios };
}

/** Runs of one side as one: counts add up; the p99 is the worst of the runs (no histograms to merge). */
export function merge(runs: Measurement[]): Measurement {
  const failures: Record<string, number> = {};
  for (const run of runs) for (const [outcome, n] of Object.entries(run.failures)) failures[outcome] = (failures[outcome] ?? 0) + n;
  const sum = (pick: (m: Measurement) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const ok = sum((m) => m.ok);
  const durationSeconds = sum((m) => m.durationSeconds);
  return {
    label: runs[0].label,
    connections: runs[0].connections,
    durationSeconds,
    ok,
    perSecond: ok / durationSeconds,
    p99Ms: Math.max(...runs.map((m) => m.p99Ms)),
    meanMs: ok ? sum((m) => m.meanMs * m.ok) / ok : 0,
    failures,
    non2xx: sum((m) => m.non2xx),
    connectionErrors: sum((m) => m.connectionErrors),
    timeouts: sum((m) => m.timeouts),
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './benchmark.ts';
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
 * Measures both sides with the same time each, interleaved as baseline, figure, baseline (half the
 * time in each baseline run): on a shared, noisy machine a slow drift then weighs on both sides alike.
 * Each side is warmed up first, and its warm-up discarded.
 */
export async function compare(ctx: BenchContext, baseline: Phase, figure: Phase): Promise<{ baseline: Measurement; figure: Measurement }> {
  const { warmupSeconds, durationSeconds } = ctx.settings;
  const step = async (phase: Phase, seconds: number, what: string) => {
    const measured = await phase.run(seconds);
    await drain(measured);
    ctx.log(`    ${what} ${phase.label}: ${describeMeasurement(measured)}`);
    return measured;
  };
  const half = Math.ceil(durationSeconds / 2);
  ctx.log(`  ${warmupSeconds} s warm-up each, then ${half} s baseline, ${2 * half} s figure, ${half} s baseline`);
  await step(baseline, warmupSeconds, 'warm-up ');
  await step(figure, warmupSeconds, 'warm-up ');
  const first = await step(baseline, half, 'baseline');
  const measured = await step(figure, 2 * half, 'figure  ');
  const second = await step(baseline, half, 'baseline');
  return { baseline: merge(first, second), figure: measured };
}

/** Two runs of one side as one: counts add up; the p99 is the worse of the two (no histograms to merge). */
function merge(a: Measurement, b: Measurement): Measurement {
  const add = (x: Record<string, number>, y: Record<string, number>) => {
    const sum = { ...x };
    for (const [key, n] of Object.entries(y)) sum[key] = (sum[key] ?? 0) + n;
    return sum;
  };
  const ok = a.ok + b.ok;
  const durationSeconds = a.durationSeconds + b.durationSeconds;
  return {
    label: a.label,
    connections: a.connections,
    durationSeconds,
    ok,
    perSecond: ok / durationSeconds,
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    meanMs: ok ? (a.meanMs * a.ok + b.meanMs * b.ok) / ok : 0,
    failures: add(a.failures, b.failures),
    non2xx: a.non2xx + b.non2xx,
    connectionErrors: a.connectionErrors + b.connectionErrors,
    timeouts: a.timeouts + b.timeouts,
  };
}

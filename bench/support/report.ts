import type { Benchmark, Outcome } from './benchmark.ts';
import { type Measurement, failureCount } from './load.ts';

export interface Row {
  benchmark: Benchmark;
  outcome?: Outcome;
  error?: string;
}

const rate = (perSecond: number) => (perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1));

export function ratioOf(outcome: Outcome): number {
  return outcome.baseline.perSecond > 0 ? outcome.figure.perSecond / outcome.baseline.perSecond : 0;
}

/** One line with everything a figure rests on: rate, latency, and every kind of failure. */
export function describeMeasurement(m: Measurement): string {
  const failed = Object.entries(m.failures).map(([outcome, n]) => `${outcome} ${n}`);
  const transport = `non-2xx ${m.non2xx}, connection errors ${m.connectionErrors}, timeouts ${m.timeouts}`;
  return (
    `${rate(m.perSecond)}/s ok (${m.ok} in ${m.durationSeconds.toFixed(1)} s), p99 ${m.p99Ms.toFixed(1)} ms, mean ${m.meanMs.toFixed(1)} ms; ` +
    `failures ${failureCount(m)}${failed.length ? ` (${failed.join(', ')})` : ''}; ${transport}`
  );
}

/** The closing table: benchmark, figure, baseline, ratio, target, verdict. */
export function printTable(rows: Row[]): void {
  const header = ['benchmark', 'figure /s', 'baseline /s', 'ratio', 'target', 'verdict'];
  const lines = rows.map(({ benchmark, outcome, error }) => {
    if (!outcome) return [benchmark.name, '-', '-', '-', `>= ${benchmark.target}`, `FAILED TO RUN: ${error}`];
    const ratio = ratioOf(outcome);
    const broken = failureCount(outcome.figure) + failureCount(outcome.baseline) > 0 ? ' (with failures, see above)' : '';
    return [
      benchmark.name,
      rate(outcome.figure.perSecond),
      rate(outcome.baseline.perSecond),
      ratio.toFixed(2),
      `>= ${benchmark.target}`,
      (ratio >= benchmark.target ? 'PASS' : 'BELOW TARGET') + broken,
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(format(line));
  const below = rows.filter((row) => !row.outcome || ratioOf(row.outcome) < row.benchmark.target).map((row) => row.benchmark.name);
  console.log(below.length ? `\nBelow target or not run: ${below.join(', ')}` : '\nAll benchmarks at or above target.');
}

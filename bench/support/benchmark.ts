import type { ChildServer } from './child-server.ts';
import type { Measurement } from './load.ts';
import type { BenchSettings } from './settings.ts';

/** Both sides of a benchmark, measured interleaved (see compare.ts). */
export interface Comparison {
  baseline: Measurement;
  figure: Measurement;
  /** figure / baseline of each round (against the baseline runs either side): how steady the ratio was. */
  roundRatios: number[];
}

/** A figure measured against its baseline in the same run; the ratio is figure / baseline. */
export interface Outcome extends Comparison {
  /** What a reader needs to trust the figure (e.g. how many sign-ins really ran argon2). */
  notes: string[];
}

export interface Benchmark {
  /** As named on the command line: `npm run bench -- <name>`. */
  name: string;
  /** What is compared with what, in one line. */
  title: string;
  /** The ratio figure / baseline the project aims for. */
  target: number;
  run(ctx: BenchContext): Promise<Outcome>;
}

export interface BenchContext {
  settings: BenchSettings;
  /** A Vigil child process on a fresh database of its own (with these settings added); stopped and dropped after the benchmark. */
  startVigil(env?: Record<string, string>): Promise<ChildServer>;
  /** The bare graphql-yoga child process; stopped after the benchmark. */
  startBareYoga(): Promise<ChildServer>;
  log(line: string): void;
  /** Something a benchmark started itself (another kind of server), stopped after it. */
  onCleanup(cleanup: () => Promise<void>): void;
}

import type { BenchContext } from './benchmark.ts';
import { type LoadSpec, type Measurement, runLoad } from './load.ts';
import { describeMeasurement } from './report.ts';

/** One side of a comparison: discarded warm-up load, then the measured run, same connections for both. */
export async function measurePhase(ctx: BenchContext, spec: LoadSpec): Promise<Measurement> {
  const { warmupSeconds, durationSeconds } = ctx.settings;
  ctx.log(`  ${spec.label}: ${spec.connections} connections, ${warmupSeconds} s warm-up + ${durationSeconds} s`);
  await runLoad(spec, warmupSeconds);
  const measured = await runLoad(spec, durationSeconds);
  ctx.log(`    ${describeMeasurement(measured)}`);
  return measured;
}

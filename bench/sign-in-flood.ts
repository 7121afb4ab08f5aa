import { setTimeout as sleep } from 'node:timers/promises';
import { signIn, signUp, signUpMany } from './support/accounts.ts';
import type { Benchmark } from './support/benchmark.ts';
import { type Measurement, startLoad } from './support/load.ts';
import { measurePhase } from './support/phase.ts';
import { describeMeasurement } from './support/report.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';
import { signInLoad } from './sign-in.ts';

/**
 * Everyone else's queries while sign-ins pour in: the server caps concurrent hashing, so a login flood
 * should queue behind that cap instead of taking every core and thread from the other requests.
 */
export const signInFloodBenchmark: Benchmark = {
  name: 'sign-in-flood',
  title: 'viewer query throughput during a flood of right-password sign-ins vs without the flood',
  target: 0.5,
  async run(ctx) {
    const { queryConnections, signInConnections, warmupSeconds, durationSeconds } = ctx.settings;
    const vigil = await ctx.startVigil();
    const reader = await signUp(vigil.url, 'bench-flood-reader');
    // Right passwords on many accounts: every sign-in runs argon2 and none trips the lockout (see sign-in.ts).
    const flooders = await signUpMany(vigil.url, 'bench-flood', signInConnections);

    const quiet = await viewerLoad('Vigil viewer, no flood', vigil.url, VIEWER_QUERY, await signIn(vigil.url, reader), queryConnections);
    const baseline = await measurePhase(ctx, quiet);

    const loaded = await viewerLoad('Vigil viewer, during the flood', vigil.url, VIEWER_QUERY, await signIn(vigil.url, reader), queryConnections);
    ctx.log(`  flood: ${signInConnections} connections sending signIn, from before the warm-up to after the measurement`);
    const flood = startLoad(signInLoad('signIn flood', vigil.url, flooders), warmupSeconds + durationSeconds + 60);
    let figure: Measurement;
    try {
      // The hashing queue fills within a second; let it before the warm-up starts.
      await sleep(1000);
      figure = await measurePhase(ctx, loaded);
    } finally {
      flood.stop();
    }
    const flooded = await flood.result;
    ctx.log(`    flood: ${describeMeasurement(flooded)}`);
    const rateLimited = flooded.failures.RATE_LIMITED ?? 0;
    const hashed = flooded.ok + (flooded.failures.INVALID_CREDENTIALS ?? 0);
    return {
      baseline,
      figure,
      notes: [
        `flood: ${hashed} sign-ins ran argon2 (${flooded.ok} succeeded), ${rateLimited} were RATE_LIMITED without hashing, ` +
          `${(hashed / flooded.durationSeconds).toFixed(1)} hashed sign-ins/s over ${flooded.durationSeconds.toFixed(1)} s`,
      ],
    };
  },
};

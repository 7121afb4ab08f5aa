import { setTimeout as sleep } from 'node:timers/promises';
import { signIn, signUp, signUpMany } from './support/accounts.ts';
import type { Benchmark } from './support/benchmark.ts';
import { type Phase, compare, drain, loadPhase, merge } from './support/compare.ts';
import { type LoadSpec, type Measurement, runLoad, startLoad } from './support/load.ts';
import { describeMeasurement } from './support/report.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';
import { signInLoad } from './sign-in.ts';

/** The hashing queue fills within a second: let it before the queries are measured. */
const FLOOD_LEAD_MS = 1000;

/** The query load while `flood` hits the same server; `floods` receives what the flood itself did. */
function underFlood(queries: LoadSpec, flood: LoadSpec, floods: Measurement[]): Phase {
  return {
    label: `${queries.label} during a signIn flood`,
    async run(seconds) {
      const running = startLoad(flood, seconds + 60);
      try {
        await sleep(FLOOD_LEAD_MS);
        return await runLoad(queries, seconds);
      } finally {
        running.stop();
        const flooded = await running.result;
        floods.push(flooded);
        // The sign-ins it left queued would otherwise weigh on the next baseline run.
        await drain(flooded);
      }
    },
  };
}

/**
 * Everyone else's queries while sign-ins pour in: the server caps concurrent hashing, so a login flood
 * should queue behind that cap instead of taking every core and thread from the other requests.
 */
export const signInFloodBenchmark: Benchmark = {
  name: 'sign-in-flood',
  title: 'viewer query throughput during a flood of right-password sign-ins vs without the flood',
  target: 0.5,
  async run(ctx) {
    const { queryConnections, signInConnections } = ctx.settings;
    const vigil = await ctx.startVigil();
    const token = await signIn(vigil.url, await signUp(vigil.url, 'bench-flood-reader'));
    // Right passwords on many accounts: every sign-in runs argon2 and none trips the lockout (see sign-in.ts).
    const flooders = await signUpMany(vigil.url, 'bench-flood', signInConnections);

    const queries = await viewerLoad('Vigil viewer', vigil.url, VIEWER_QUERY, token, queryConnections);
    const floods: Measurement[] = [];
    const measured = await compare(ctx, loadPhase(queries), underFlood(queries, signInLoad('signIn flood', vigil.url, flooders), floods));
    // The first flood ran during the warm-up.
    const flood = merge(floods.slice(1));
    ctx.log(`    the flood during the figure runs: ${describeMeasurement(flood)}`);
    const hashed = flood.ok + (flood.failures.INVALID_CREDENTIALS ?? 0);
    return {
      ...measured,
      notes: [
        `flood (${flood.connections} connections): ${hashed} sign-ins ran argon2 (${flood.ok} succeeded), ` +
          `${flood.failures.RATE_LIMITED ?? 0} RATE_LIMITED without hashing; ${(hashed / flood.durationSeconds).toFixed(1)} hashed sign-ins/s`,
      ],
    };
  },
};

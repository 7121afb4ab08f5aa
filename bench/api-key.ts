import { signIn, signUp } from './support/accounts.ts';
import type { Benchmark } from './support/benchmark.ts';
import { post } from './support/graphql.ts';
import { measurePhase } from './support/phase.ts';
import { VIEWER_QUERY_NO_SESSION, viewerLoad } from './support/viewer-load.ts';

const CREATE_API_KEY = 'mutation { createApiKey(input: { name: "bench", permissions: [] }) { secret } }';

/** An integration calling with an API key should be served about as fast as a signed-in user. */
export const apiKeyBenchmark: Benchmark = {
  name: 'api-key',
  title: 'API-key-authenticated { viewer { user tenant } } vs the same query with a session',
  target: 0.9,
  async run(ctx) {
    const connections = ctx.settings.queryConnections;
    const vigil = await ctx.startVigil();
    const account = await signUp(vigil.url, 'bench-api-key');
    const token = await signIn(vigil.url, account);
    const { createApiKey } = await post<{ createApiKey: { secret: string } }>(vigil.url, CREATE_API_KEY, undefined, token);

    const sessionLoad = await viewerLoad('Vigil viewer (session)', vigil.url, VIEWER_QUERY_NO_SESSION, token, connections);
    const keyLoad = await viewerLoad('Vigil viewer (API key)', vigil.url, VIEWER_QUERY_NO_SESSION, createApiKey.secret, connections);
    // Same bytes back, so both sides do the same work after authentication.
    if (keyLoad.expect !== sessionLoad.expect) throw new Error('the API key and the session see different viewers');
    const baseline = await measurePhase(ctx, sessionLoad);
    const figure = await measurePhase(ctx, keyLoad);
    return { baseline, figure, notes: [] };
  },
};

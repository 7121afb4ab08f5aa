import { signIn, signUp } from './support/accounts.ts';
import type { Benchmark } from './support/benchmark.ts';
import { compare, loadPhase } from './support/compare.ts';
import { post } from './support/graphql.ts';
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
    const token = await signIn(vigil.url, await signUp(vigil.url, 'bench-api-key'));
    const { createApiKey } = await post<{ createApiKey: { secret: string } }>(vigil.url, CREATE_API_KEY, undefined, token);

    const sessionLoad = await viewerLoad('Vigil viewer (session)', vigil.url, VIEWER_QUERY_NO_SESSION, token, connections);
    const keyLoad = await viewerLoad('Vigil viewer (API key)', vigil.url, VIEWER_QUERY_NO_SESSION, createApiKey.secret, connections);
    // Same bytes back, so both sides do the same work after authentication.
    if (keyLoad.expect !== sessionLoad.expect) throw new Error('the API key and the session see different viewers');
    const measured = await compare(ctx, loadPhase(sessionLoad), loadPhase(keyLoad));
    return { ...measured, notes: [] };
  },
};

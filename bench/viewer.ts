import { signIn, signUp } from './support/accounts.ts';
import { BARE_QUERY, BARE_RESPONSE } from './support/bare-yoga.ts';
import type { Benchmark } from './support/benchmark.ts';
import { compare, loadPhase } from './support/compare.ts';
import { requestBody, requestHeaders } from './support/graphql.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';

/** What authentication, tenancy and Vigil's plugins cost on the most common query, against yoga doing nothing. */
export const viewerBenchmark: Benchmark = {
  name: 'viewer',
  title: 'session-authenticated { viewer { user tenant session } } vs bare graphql-yoga { hello }',
  target: 0.5,
  async run(ctx) {
    const connections = ctx.settings.queryConnections;
    const bare = await ctx.startBareYoga();
    const vigil = await ctx.startVigil();
    const token = await signIn(vigil.url, await signUp(vigil.url, 'bench-viewer'));
    const measured = await compare(
      ctx,
      loadPhase({
        label: 'bare graphql-yoga { hello }',
        baseUrl: bare.url,
        connections,
        requests: [{ headers: requestHeaders(), body: requestBody(BARE_QUERY) }],
        expect: BARE_RESPONSE,
      }),
      loadPhase(await viewerLoad('Vigil viewer (session)', vigil.url, VIEWER_QUERY, token, connections)),
    );
    return { ...measured, notes: [] };
  },
};

import { signIn, signUp } from './support/accounts.ts';
import type { BenchContext, Benchmark } from './support/benchmark.ts';
import type { ChildServer } from './support/child-server.ts';
import { compare, loadPhase } from './support/compare.ts';
import { Subscribers } from './support/subscribers.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';
import { saturated, vigilFeed } from './fan-out.ts';

/**
 * What the PostgreSQL backstop for revocation costs while Redis is healthy: every ACCESS_CHANGE_POLL_MS
 * (500) each instance reads the recent access changes of the tenants it has sockets for. The same Vigil
 * with the poll off is the baseline; both use Redis. (The journal is polled only while Redis is down.)
 */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POLL_ON = { REDIS_URL, ACCESS_CHANGE_POLL_MS: '500' };
const POLL_OFF = { REDIS_URL, ACCESS_CHANGE_POLL_MS: '0' };
/** Open sockets, so that the poll has tenants to read (it is skipped on an instance with none). */
const IDLE_SOCKETS = 200;

async function withIdleSockets(vigil: ChildServer, label: string): Promise<Subscribers> {
  const token = await signIn(vigil.url, await signUp(vigil.url, `bench-backstop-${label}`));
  const sockets = new Subscribers(IDLE_SOCKETS);
  await sockets.connect(`${vigil.url.replace('http', 'ws')}/graphql`, { authorization: `Bearer ${token}` }, { filter: { actions: ['nothing.ever'] } });
  return sockets;
}

export const backstopViewerBenchmark: Benchmark = {
  name: 'backstop-viewer',
  title: `viewer /s with the revocation backstop polling (${IDLE_SOCKETS} open sockets, Redis up) vs the poll off`,
  target: 0.95,
  async run(ctx: BenchContext) {
    const connections = ctx.settings.queryConnections;
    const off = await ctx.startVigil(POLL_OFF);
    const on = await ctx.startVigil(POLL_ON);
    const sockets = [await withIdleSockets(off, 'off'), await withIdleSockets(on, 'on')];
    try {
      const tokenOff = await signIn(off.url, await signUp(off.url, 'bench-backstop-viewer-off'));
      const tokenOn = await signIn(on.url, await signUp(on.url, 'bench-backstop-viewer-on'));
      const measured = await compare(
        ctx,
        loadPhase(await viewerLoad('viewer, backstop off', off.url, VIEWER_QUERY, tokenOff, connections)),
        loadPhase(await viewerLoad('viewer, backstop polling', on.url, VIEWER_QUERY, tokenOn, connections)),
      );
      return { ...measured, notes: [`${IDLE_SOCKETS} idle sockets on each instance; Redis ${new URL(REDIS_URL).host}`] };
    } finally {
      sockets.forEach((s) => s.close());
    }
  },
};

export const backstopFanOutBenchmark: Benchmark = {
  name: 'backstop-fan-out',
  title: 'fan-out deliveries/s with the revocation backstop polling (Redis up) vs the poll off',
  target: 0.95,
  async run(ctx: BenchContext) {
    const off = await ctx.startVigil(POLL_OFF);
    const on = await ctx.startVigil(POLL_ON);
    const baseline = await vigilFeed(off, 'fan-out, backstop off');
    const figure = await vigilFeed(on, 'fan-out, backstop polling');
    try {
      const measured = await compare(ctx, saturated(baseline), saturated(figure));
      return { ...measured, notes: [`Redis ${new URL(REDIS_URL).host}`] };
    } finally {
      baseline.subscribers.close();
      figure.subscribers.close();
    }
  },
};

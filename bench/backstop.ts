import { signIn, signUp } from './support/accounts.ts';
import type { BenchContext, Benchmark, Comparison } from './support/benchmark.ts';
import type { ChildServer } from './support/child-server.ts';
import { compare, loadPhase } from './support/compare.ts';
import { Subscribers } from './support/subscribers.ts';
import { VIEWER_QUERY, viewerLoad } from './support/viewer-load.ts';
import { saturated, vigilFeed } from './fan-out.ts';

/**
 * What the PostgreSQL backstop for revocation costs while Redis is healthy: every ACCESS_CHANGE_POLL_MS
 * (500) each instance reads the recent access changes of the tenants it has sockets for. Both sides use
 * Redis. (The journal is polled only while Redis is down.)
 */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POLL_ON = { REDIS_URL, ACCESS_CHANGE_POLL_MS: '500' };
const POLL_OFF = { REDIS_URL, ACCESS_CHANGE_POLL_MS: '0' };
/** Open sockets, so that the poll has tenants to read (it is skipped on an instance with none). */
const IDLE_SOCKETS = 200;

async function openSockets(vigil: ChildServer, token: string): Promise<Subscribers> {
  const sockets = new Subscribers(IDLE_SOCKETS);
  await sockets.connect(`${vigil.url.replace('http', 'ws')}/graphql`, { authorization: `Bearer ${token}` }, { filter: { actions: ['nothing.ever'] } });
  return sockets;
}

async function viewerWithSockets(ctx: BenchContext, env: Record<string, string>, label: string) {
  const vigil = await ctx.startVigil(env);
  const token = await signIn(vigil.url, await signUp(vigil.url, `bench-backstop-${label.replace(/\W+/g, '-')}`));
  const sockets = await openSockets(vigil, token);
  ctx.onCleanup(async () => sockets.close());
  return loadPhase(await viewerLoad(`viewer, ${label}`, vigil.url, VIEWER_QUERY, token, ctx.settings.queryConnections));
}

/**
 * Two instances alike but for the poll, each with IDLE_SOCKETS open (the poll reads only for an instance
 * with sockets). Two processes differ by a few per cent on their own, so the comparison runs twice, the
 * roles swapped, and the figure is the geometric mean: what the order or the process would add cancels.
 */
export const backstopViewerBenchmark: Benchmark = {
  name: 'backstop-viewer',
  title: `viewer /s with the revocation backstop polling for ${IDLE_SOCKETS} open sockets vs the poll off (Redis up)`,
  target: 0.95,
  async run(ctx: BenchContext) {
    const off = await viewerWithSockets(ctx, POLL_OFF, 'backstop off');
    const on = await viewerWithSockets(ctx, POLL_ON, 'backstop polling');
    const forward = await compare(ctx, off, on);
    const swapped = await compare(ctx, on, off);
    const ratio = (c: Comparison) => c.figure.perSecond / c.baseline.perSecond;
    const combined = Math.sqrt(ratio(forward) / ratio(swapped));
    return {
      baseline: forward.baseline,
      figure: { ...forward.figure, perSecond: forward.baseline.perSecond * combined },
      roundRatios: [...forward.roundRatios, ...swapped.roundRatios.map((r) => 1 / r)],
      notes: [
        `polling/off ${ratio(forward).toFixed(3)} with the poll off as the baseline, ${(1 / ratio(swapped)).toFixed(3)} with the roles swapped; figure = their geometric mean`,
        `${IDLE_SOCKETS} idle sockets on each instance; Redis ${new URL(REDIS_URL).host}`,
      ],
    };
  },
};

/** Fan-out always has sockets: the same Vigil with the poll off is the baseline. */
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

import { setTimeout as sleep } from 'node:timers/promises';
import { signIn, signUp } from './support/accounts.ts';
import type { BenchContext, Benchmark } from './support/benchmark.ts';
import { type ChildServer, freePort, startChildServer } from './support/child-server.ts';
import { type Phase, compare } from './support/compare.ts';
import { post } from './support/graphql.ts';
import type { Measurement } from './support/load.ts';
import { Subscribers, percentile } from './support/subscribers.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
/**
 * Events published but not yet delivered to everyone, at most: saturates delivery without a runaway
 * backlog. Enough that Vigil's publishing (a real GraphQL request and journal transaction, tens of ms
 * under this load) and its write coalescing under load (up to 50 ms) leave delivery never idle.
 */
const IN_FLIGHT = 16;
const STEADY_EVENTS_PER_SECOND = 20;
const P99_TARGET_MS = 100;

/** A source of events and the subscribers listening to it. */
export interface Feed {
  label: string;
  subscribers: Subscribers;
  publish(): Promise<void>;
}

/**
 * graphql-ws fan-out: deliveries per second with subscribers saturated, Vigil against a naive graphql-ws
 * server executing the subscription once per subscriber per event; and the p99 publish-to-delivery
 * latency at a steady 20 events per second. Both serve the same document to the same number of sockets.
 */
export const fanOutBenchmark: Benchmark = {
  name: 'fan-out',
  title: `${SUBSCRIBERS} graphql-ws subscribers: deliveries/s, Vigil vs a naive graphql-ws server`,
  target: 3,
  async run(ctx) {
    const naive = await startNaive(ctx);
    const vigil = await ctx.startVigil();
    const baseline = await naiveFeed(naive);
    const figure = await vigilFeed(vigil);
    try {
      const measured = await compare(ctx, saturated(baseline), saturated(figure));
      const steady = await steadyLatency(ctx, figure);
      const steadyNaive = await steadyLatency(ctx, baseline);
      const verdict = steady.p99 < P99_TARGET_MS ? 'PASS' : 'BELOW TARGET';
      return {
        ...measured,
        notes: [
          `p99 publish-to-delivery at ${STEADY_EVENTS_PER_SECOND} events/s, Vigil: ${steady.p99.toFixed(0)} ms (target < ${P99_TARGET_MS} ms: ${verdict}); ${steady.delivered} of ${steady.expected} deliveries`,
          `the same for the naive server: ${steadyNaive.p99.toFixed(0)} ms; ${steadyNaive.delivered} of ${steadyNaive.expected} deliveries`,
        ],
      };
    } finally {
      baseline.subscribers.close();
      figure.subscribers.close();
    }
  },
};

async function startNaive(ctx: BenchContext): Promise<ChildServer> {
  const port = await freePort();
  const server = await startChildServer('naive graphql-ws', 'bench/support/naive-ws-server.ts', port, { PATH: process.env.PATH, PORT: String(port) });
  ctx.onCleanup(() => server.stop());
  return server;
}

async function naiveFeed(server: ChildServer): Promise<Feed> {
  const subscribers = new Subscribers(SUBSCRIBERS);
  await subscribers.connect(`${server.url.replace('http', 'ws')}/graphql`, undefined, {});
  return {
    label: `naive graphql-ws, ${SUBSCRIBERS} subscribers`,
    subscribers,
    publish: async () => void (await fetch(`${server.url}/publish`, { method: 'POST' })).text(),
  };
}

/** Vigil's events are real journal entries: each search's first page records `audit.read`. */
export async function vigilFeed(server: ChildServer, label = `Vigil, ${SUBSCRIBERS} subscribers`): Promise<Feed> {
  const token = await signIn(server.url, await signUp(server.url, 'bench-fan-out'));
  const subscribers = new Subscribers(SUBSCRIBERS);
  await subscribers.connect(`${server.url.replace('http', 'ws')}/graphql`, { authorization: `Bearer ${token}` }, { filter: { actions: ['audit.read'] } });
  return {
    label,
    subscribers,
    publish: async () => void (await post(server.url, '{ auditEvents(first: 1) { edges { cursor } } }', undefined, token)),
  };
}

/**
 * Publishes as fast as deliveries complete for `seconds`, with up to IN_FLIGHT events published (or being
 * published) but not yet delivered to every subscriber; deliveries/s in that window.
 */
export function saturated(feed: Feed): Phase {
  return {
    label: feed.label,
    async run(seconds) {
      const { subscribers } = feed;
      await subscribers.completedAtLeast(Number.MAX_SAFE_INTEGER, 0);
      const startCompleted = subscribers.completed;
      subscribers.resetCounters();
      let published = 0;
      const publishing = new Set<Promise<void>>();
      const started = Date.now();
      while (Date.now() - started < seconds * 1000) {
        await subscribers.completedAtLeast(startCompleted + published - IN_FLIGHT + 1, 10_000);
        const request: Promise<void> = feed.publish().finally(() => publishing.delete(request));
        publishing.add(request);
        published += 1;
        if (publishing.size >= IN_FLIGHT) await Promise.race(publishing);
      }
      await Promise.all(publishing);
      const elapsed = (Date.now() - started) / 1000;
      const delivered = subscribers.delivered;
      await subscribers.completedAtLeast(startCompleted + published, 30_000);
      return measurement(feed.label, subscribers, delivered, elapsed, published);
    },
  };
}

async function steadyLatency(ctx: BenchContext, feed: Feed) {
  const { subscribers } = feed;
  const seconds = ctx.settings.durationSeconds;
  const startCompleted = subscribers.completed;
  subscribers.resetCounters();
  const events = seconds * STEADY_EVENTS_PER_SECOND;
  const started = Date.now();
  for (let i = 0; i < events; i++) {
    void feed.publish();
    const next = started + ((i + 1) * 1000) / STEADY_EVENTS_PER_SECOND;
    await sleep(Math.max(0, next - Date.now()));
  }
  await subscribers.completedAtLeast(startCompleted + events, 30_000);
  const p99 = percentile(subscribers.latencies, 99);
  ctx.log(`    steady   ${feed.label}: ${STEADY_EVENTS_PER_SECOND} events/s for ${seconds} s, p99 ${p99.toFixed(0)} ms`);
  return { p99, delivered: subscribers.delivered, expected: events * subscribers.count };
}

function measurement(label: string, subscribers: Subscribers, delivered: number, seconds: number, published: number): Measurement {
  const lost = published * subscribers.count - subscribers.delivered;
  return {
    label,
    connections: subscribers.count,
    durationSeconds: seconds,
    ok: delivered,
    perSecond: delivered / seconds,
    p99Ms: percentile(subscribers.latencies, 99),
    meanMs: subscribers.latencies.reduce((a, b) => a + b, 0) / Math.max(subscribers.latencies.length, 1),
    failures: lost > 0 ? { 'not delivered': lost } : {},
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
  };
}

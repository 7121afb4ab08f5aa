import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeCertificateAuthority } from '../test/support/certs.ts';
import { signIn, signUp } from './support/accounts.ts';
import type { BenchContext, Benchmark } from './support/benchmark.ts';
import { compare, loadPhase } from './support/compare.ts';
import { post, requestBody, requestHeaders } from './support/graphql.ts';
import type { Measurement } from './support/load.ts';

/**
 * Webhooks (issue 17; `npm run bench -- webhooks` runs both). `webhooks-delivery`: how fast Vigil drains an endpoint's backlog to a local HTTPS receiver (one
 * signed POST at a time, in seq order, each recorded in the database before the next) against a plain POST loop
 * of the same bodies to the same receiver from this process; and the p99 from an event's commit to its
 * delivery. `webhooks-append`: audited mutations per second with an endpoint delivering all the while, against
 * none: the journal is the outbox, so the figure is what the deliverer's reads cost the writers.
 */
const CREATE = 'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }';
const SET_STATE = 'mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { state } }';
const WRITE = (threshold: number) => requestBody('mutation($t: Int!) { updateAlertRule(input: { rule: MASS_EXPORT, threshold: $t }) { threshold } }', { t: threshold });
const BACKLOG = 2000;
const LIVE_EVENTS = 400;
const LIVE_RATE_PER_SECOND = 40;

interface Arrival {
  at: number;
  body: string;
}

/** An HTTPS receiver on loopback with a certificate of a throwaway CA, which Vigil is told to trust. */
async function startReceiver(ctx: BenchContext) {
  const ca = await makeCertificateAuthority();
  const leaf = await ca.issue({ commonName: 'receiver', ipAddresses: ['127.0.0.1'] });
  const arrivals: Arrival[] = [];
  const server = createServer({ cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      // The baseline's own POSTs are answered alike but not counted as deliveries.
      if (req.url !== '/baseline') arrivals.push({ at: Date.now(), body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ca.destroy();
  });
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/hook`, baselineUrl: `${origin}/baseline`, caFile: ca.caFile, arrivals };
}

async function vigilWithEndpoint(ctx: BenchContext, slug: string) {
  const receiver = await startReceiver(ctx);
  const vigil = await ctx.startVigil({ NODE_EXTRA_CA_CERTS: receiver.caFile, WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOKS_INTERVAL_SECONDS: '1' });
  const token = await signIn(vigil.url, await signUp(vigil.url, slug));
  const { createWebhookEndpoint } = await post<{ createWebhookEndpoint: { endpoint: { id: string } } }>(vigil.url, CREATE, { i: { url: receiver.url } }, token);
  const id = createWebhookEndpoint.endpoint.id;
  const setState = (state: 'ACTIVE' | 'PAUSED') => post(vigil.url, SET_STATE, { i: { id, state } }, token);
  return { vigil, token, receiver, setState };
}

/** `count` audited mutations, `parallel` at a time. */
async function writeEvents(url: string, token: string, count: number, parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        await fetch(`${url}/graphql`, { method: 'POST', headers: requestHeaders(token), body: WRITE(2 + (next % 90)) }).then((r) => r.text());
      }
    }),
  );
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;

function measurement(label: string, ok: number, seconds: number, latencies: number[]): Measurement {
  return { label, connections: 1, durationSeconds: seconds, ok, perSecond: ok / seconds, p99Ms: percentile(latencies, 99), meanMs: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1), failures: {}, non2xx: 0, connectionErrors: 0, timeouts: 0 };
}

/** The same bodies POSTed one after another to the same receiver, over the same kind of connection. */
async function plainPostLoop(url: string, bodies: string[], caFile: string): Promise<Measurement> {
  const ca = readFileSync(caFile);
  const latencies: number[] = [];
  const started = performance.now();
  for (const body of bodies) {
    const sent = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
    latencies.push(performance.now() - sent);
  }
  return measurement('plain POST loop (this process, same receiver)', bodies.length, (performance.now() - started) / 1000, latencies);
}

export const webhooksBenchmark: Benchmark = {
  name: 'webhooks-delivery',
  title: 'webhook deliveries/s draining a backlog (signed, in order, recorded) vs a plain POST loop to the same receiver',
  target: 0.5,
  async run(ctx) {
    const { vigil, token, receiver, setState } = await vigilWithEndpoint(ctx, 'bench-webhooks');
    await until(() => receiver.arrivals.length >= 1, 30_000);
    await setState('PAUSED');
    await writeEvents(vigil.url, token, BACKLOG);
    const before = receiver.arrivals.length;
    const started = performance.now();
    await setState('ACTIVE');
    await until(() => receiver.arrivals.length >= before + BACKLOG, 300_000);
    const seconds = (performance.now() - started) / 1000;
    const drained = receiver.arrivals.slice(before, before + BACKLOG);
    const figure = measurement('Vigil draining a backlog', drained.length, seconds, []);
    const baseline = await plainPostLoop(receiver.baselineUrl, drained.map((a) => a.body), receiver.caFile);

    // Commit to delivery, with the endpoint live and events coming at a steady pace.
    const live = receiver.arrivals.length;
    for (let i = 0; i < LIVE_EVENTS; i++) {
      await writeEvents(vigil.url, token, 1, 1);
      await sleep(1000 / LIVE_RATE_PER_SECOND);
    }
    await until(() => receiver.arrivals.length >= live + LIVE_EVENTS, 60_000);
    const delays = receiver.arrivals.slice(live).map((a) => a.at - Date.parse((JSON.parse(a.body) as { timestamp: string }).timestamp));
    const seqs = receiver.arrivals.map((a) => (JSON.parse(a.body) as { data: { seq: number } }).data.seq);
    const outOfStep = seqs.flatMap((seq, i) => (i > 0 && seq !== seqs[i - 1] + 1 ? [`${seqs[i - 1]}→${seq}`] : []));
    return {
      baseline,
      figure,
      roundRatios: [figure.perSecond / baseline.perSecond],
      notes: [
        `commit to delivery at ${LIVE_RATE_PER_SECOND} events/s: p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms (${delays.length} events; occurredAt to arrival, one clock)`,
        outOfStep.length ? `NOT in seq order, or with gaps or repeats, at: ${outOfStep.slice(0, 10).join(', ')}` : `all ${seqs.length} deliveries in seq order, none missing, none twice`,
      ],
    };
  },
};

export const webhooksAppendBenchmark: Benchmark = {
  name: 'webhooks-append',
  title: 'audited mutations/s with a webhook endpoint delivering every event vs with it paused (the journal is the outbox)',
  target: 0.8,
  async run(ctx) {
    const { vigil, token, setState } = await vigilWithEndpoint(ctx, 'bench-webhooks-append');
    const connections = ctx.settings.queryConnections;
    const spec = (label: string) => ({
      label,
      baseUrl: vigil.url,
      connections,
      requests: Array.from({ length: connections }, (_, i) => ({ headers: requestHeaders(token), body: WRITE(2 + i) })),
      expect: (body: string) => body.startsWith('{"data":{"updateAlertRule"'),
    });
    const paused = loadPhase(spec('updateAlertRule, endpoint paused'));
    const delivering = loadPhase(spec('updateAlertRule, endpoint delivering'));
    const measured = await compare(
      ctx,
      { label: paused.label, run: async (seconds) => (await setState('PAUSED'), paused.run(seconds)) },
      { label: delivering.label, run: async (seconds) => (await setState('ACTIVE'), delivering.run(seconds)) },
    );
    return { ...measured, notes: ['one journal event per mutation; the receiver answers 200 at once'] };
  },
};

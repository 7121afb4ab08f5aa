import autocannon, { type Result } from 'autocannon';
import { outcomeOf } from './graphql.ts';

export interface LoadRequest {
  headers: Record<string, string>;
  body: string;
}

/** One kind of traffic against one server: POST /graphql from a fixed number of keep-alive connections. */
export interface LoadSpec {
  label: string;
  baseUrl: string;
  connections: number;
  /** Connection i sends requests[i % requests.length], again and again. */
  requests: LoadRequest[];
  /** What counts as success: the exact expected body, or a check of it. Anything else is a failure, not throughput. */
  expect: string | ((body: string) => boolean);
}

export interface Measurement {
  label: string;
  connections: number;
  durationSeconds: number;
  /** Successful responses, and their rate. */
  ok: number;
  perSecond: number;
  p99Ms: number;
  meanMs: number;
  /** Failed responses by outcome (GraphQL error code, 'unexpected body'), plus HTTP-level trouble. */
  failures: Record<string, number>;
  non2xx: number;
  connectionErrors: number;
  timeouts: number;
}

export interface RunningLoad {
  /** Ends the load at the next one-second tick. */
  stop(): void;
  result: Promise<Measurement>;
}

/**
 * Starts load in this process (the servers under test are child processes). Every response body is
 * checked: an exact comparison for fixed answers, so the check costs the same on both sides of a ratio.
 */
export function startLoad(spec: LoadSpec, durationSeconds: number): RunningLoad {
  let ok = 0;
  let nextConnection = 0;
  const failures: Record<string, number> = {};
  const expected = spec.expect;
  const accept = typeof expected === 'string' ? (body: string) => body === expected : expected;
  const instance = autocannon({
    url: `${spec.baseUrl}/graphql`,
    method: 'POST',
    connections: spec.connections,
    duration: durationSeconds,
    setupClient: (client) => {
      const request = spec.requests[nextConnection++ % spec.requests.length];
      client.setHeadersAndBody(request.headers, request.body);
    },
    verifyBody: (body) => {
      if (accept(body)) {
        ok += 1;
        return true;
      }
      const outcome = outcomeOf(body);
      failures[outcome] = (failures[outcome] ?? 0) + 1;
      return false;
    },
  });
  const result = Promise.resolve(instance).then((raw) => summarize(spec, raw, ok, failures));
  return { stop: () => instance.stop(), result };
}

export function runLoad(spec: LoadSpec, durationSeconds: number): Promise<Measurement> {
  return startLoad(spec, durationSeconds).result;
}

function summarize(spec: LoadSpec, raw: Result, ok: number, failures: Record<string, number>): Measurement {
  return {
    label: spec.label,
    connections: spec.connections,
    durationSeconds: raw.duration,
    ok,
    perSecond: ok / raw.duration,
    p99Ms: raw.latency.p99,
    meanMs: raw.latency.mean,
    failures,
    non2xx: raw.non2xx,
    connectionErrors: raw.errors - raw.timeouts,
    timeouts: raw.timeouts,
  };
}

/** All failed responses and transport errors of a measurement. */
export function failureCount(m: Measurement): number {
  return Object.values(m.failures).reduce((sum, n) => sum + n, 0) + m.connectionErrors + m.timeouts;
}

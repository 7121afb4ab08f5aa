// The subset of autocannon 8's programmatic API the benchmarks use; the package ships no types.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Client {
    setHeadersAndBody(headers: Record<string, string>, body: string): void;
  }

  export interface Options {
    url: string;
    method?: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    headers?: Record<string, string>;
    body?: string;
    setupClient?: (client: Client) => void;
    /** Called with every response body; a falsy return counts the response as a mismatch. */
    verifyBody?: (body: string) => boolean;
  }

  export interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    max: number;
    total: number;
  }

  export interface Result {
    latency: Histogram;
    requests: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance;
  export default autocannon;
}

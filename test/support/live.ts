import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface LiveOptions {
  token?: string;
  apiKey?: string;
  cookie?: string;
  origin?: string;
}

/** A graphql-ws client over a real WebSocket, authenticated as an app or a browser would be. */
export function liveClient(httpUrl: string, options: LiveOptions = {}): Client & { closes: Array<{ code: number; reason: string }> } {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const closes: Array<{ code: number; reason: string }> = [];
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: HeaderWebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.token ? { authorization: `Bearer ${options.token}` } : options.apiKey ? { apiKey: options.apiKey } : undefined,
    on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
    onNonLazyError: () => {},
  });
  return Object.assign(client, { closes });
}

export interface Collector<T> {
  items: T[];
  errors: unknown[];
  done: Promise<void>;
  /** Resolves once `predicate` holds for the items received, or rejects after timeoutMs. */
  until(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Collector<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters: Array<() => void> = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) items.push(value.data as T);
        waiters.forEach((w) => w());
      },
      error: (error) => {
        errors.push(error);
        waiters.forEach((w) => w());
        finish();
      },
      complete: () => finish(),
    },
  );
  return {
    items,
    errors,
    done,
    stop,
    until(predicate, timeoutMs = 5_000) {
      return new Promise<T[]>((resolve, reject) => {
        const check = () => {
          if (predicate(items)) {
            clearTimeout(timer);
            resolve(items);
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out with ${items.length} items, errors ${JSON.stringify(errors)}`)), timeoutMs);
        waiters.push(check);
        check();
      });
    },
  };
}

/** Resolves with the close event of a raw WebSocket, or rejects after timeoutMs. */
export function closeOf(ws: WebSocket, timeoutMs = 5_000): Promise<{ code: number; reason: string; afterMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: String(reason), afterMs: Date.now() - started });
    });
  });
}

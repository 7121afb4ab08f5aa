import { Redis, type RedisOptions } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from './config-error.ts';
import type { Logger } from './logger.ts';

export type Listener = (payload: unknown) => void;

/** `local`: no Redis, one instance; `up`/`down`: whether Redis carries messages to the other instances now. */
export type BusState = 'local' | 'up' | 'down';

/**
 * Publish/subscribe between the parts of Vigil: in this process always, and across instances through
 * Redis when REDIS_URL is set. Redis is an accelerator, never a dependency: a message is delivered here
 * at once whatever Redis does, a failed publish is counted and dropped (the journal and the access epoch
 * in PostgreSQL are the truth; their readers catch up, see LiveFeeds and LiveSockets), and nothing here
 * throws or leaves a promise unhandled. Payloads must survive JSON.
 */
export interface EventBus {
  publish(topic: string, payload: unknown): void;
  /** Returns the function that unsubscribes. */
  subscribe(topic: string, listener: Listener): () => void;
  readonly state: BusState;
  /** Called on every change of state; returns the function that stops it. */
  onStateChange(listener: (state: BusState) => void): () => void;
  /** True when the transport answers (always, in process). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface EventBusOptions {
  log: Logger;
  redisUrl?: string;
  /** CA of the Redis server's certificate, for rediss:// */
  redisCaFile?: string;
  channelPrefix: string;
}

export function createEventBus(options: EventBusOptions): EventBus {
  return options.redisUrl ? new RedisBus(options, options.redisUrl) : new LocalBus(options.log);
}

class LocalBus implements EventBus {
  protected readonly listeners = new Map<string, Set<Listener>>();
  state: BusState = 'local';

  constructor(protected readonly log: Logger) {}

  publish(topic: string, payload: unknown): void {
    this.deliver(topic, payload);
  }

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
      this.firstListener(topic);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size || this.listeners.get(topic) !== set) return;
      this.listeners.delete(topic);
      this.lastListenerGone(topic);
    };
  }

  onStateChange(_listener: (state: BusState) => void): () => void {
    return () => {};
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  /** A listener that throws must not fail the publisher (a committed request) nor the other listeners. */
  protected deliver(topic: string, payload: unknown): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        this.log.error({ err: error, topic }, 'a listener of the event bus failed');
      }
    }
  }

  protected firstListener(_topic: string): void {}

  protected lastListenerGone(_topic: string): void {}
}

interface Envelope {
  /** The publishing instance: it delivered its own message already. */
  o: string;
  p: unknown;
}

class RedisBus extends LocalBus {
  override state: BusState = 'down';
  readonly #instance = randomUUID();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #stateListeners = new Set<(state: BusState) => void>();
  readonly #prefix: string;
  #lostAt: number | null = null;
  #undelivered = 0;

  constructor(options: EventBusOptions, url: string) {
    super(options.log);
    this.#prefix = options.channelPrefix;
    this.#publisher = createRedisClient(url, options.redisCaFile);
    this.#subscriber = createRedisClient(url, options.redisCaFile, { autoResubscribe: false });
    for (const client of [this.#publisher, this.#subscriber]) {
      client.on('error', () => this.#judge());
      client.on('close', () => this.#judge());
      client.on('ready', () => this.#judge());
    }
    // ioredis forgets subscriptions that failed while it was away: subscribe again to all on every return.
    this.#subscriber.on('ready', () => this.#resubscribe());
    this.#subscriber.on('message', (channel: string, message: string) => this.#receive(channel, message));
  }

  override publish(topic: string, payload: unknown): void {
    this.deliver(topic, payload);
    if (this.#publisher.status !== 'ready') return void this.#undelivered++;
    const envelope: Envelope = { o: this.#instance, p: payload };
    this.#publisher.publish(this.#channel(topic), JSON.stringify(envelope)).catch(() => this.#undelivered++);
  }

  override onStateChange(listener: (state: BusState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  override async ping(): Promise<boolean> {
    return this.#publisher.status === 'ready' && (await this.#publisher.ping().catch(() => null)) === 'PONG';
  }

  override async close(): Promise<void> {
    this.#stateListeners.clear();
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  protected override firstListener(topic: string): void {
    if (this.#subscriber.status === 'ready') this.#subscriber.subscribe(this.#channel(topic)).catch(() => this.#judge());
  }

  protected override lastListenerGone(topic: string): void {
    if (this.#subscriber.status === 'ready') this.#subscriber.unsubscribe(this.#channel(topic)).catch(() => {});
  }

  // Redis channels are global across databases: the prefix keeps deployments apart.
  #channel(topic: string): string {
    return `${this.#prefix}:${topic}`;
  }

  #receive(channel: string, message: string): void {
    const topic = channel.slice(this.#prefix.length + 1);
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (envelope.o !== this.#instance) this.deliver(topic, envelope.p);
  }

  #resubscribe(): void {
    const channels = [...this.listeners.keys()].map((topic) => this.#channel(topic));
    if (channels.length) this.#subscriber.subscribe(...channels).catch(() => this.#judge());
  }

  /** Up only when both connections are; one structured line when Redis goes, one when it is back. */
  #judge(): void {
    const next: BusState = this.#publisher.status === 'ready' && this.#subscriber.status === 'ready' ? 'up' : 'down';
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    if (next === 'down') {
      this.#lostAt = Date.now();
      this.#undelivered = 0;
      this.log.warn({ redis: 'down' }, 'Redis unreachable: serving on, live events and access changes through PostgreSQL until it returns');
    } else if (previous === 'down' && this.#lostAt !== null) {
      this.log.info({ redis: 'up', downSeconds: Math.round((Date.now() - this.#lostAt) / 1000), undeliveredPublishes: this.#undelivered }, 'Redis back');
    }
    for (const listener of [...this.#stateListeners]) listener(next);
  }
}

/**
 * A Redis connection for Vigil's own use: no offline queue (while Redis is away a command fails at once,
 * to be counted or answered from elsewhere, instead of piling up), and an 'error' listener, so that ioredis
 * never prints an unhandled error event; the owner decides what to log.
 */
export function createRedisClient(url: string, caFile?: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...redisConnectionOptions(url, caFile), enableOfflineQueue: false, maxRetriesPerRequest: 1, ...options });
  client.on('error', () => {});
  return client;
}

/** Resolves once the client is connected, or after timeoutMs whatever it is. */
export function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
    function done() {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    }
  });
}

/** rediss:// verifies the server's certificate against the CA and the URL's host name, never less. */
export function redisConnectionOptions(url: string, caFile?: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'rediss:') return {};
  let ca: string | undefined;
  try {
    ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  } catch {
    throw new ConfigError(`Refusing to start: REDIS_CA_FILE: cannot read ${caFile}.`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return { tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) } };
}

const REDIS_CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS|altnames/i;

/**
 * One connection attempt at start, to tell a misconfiguration (a certificate that does not verify, TLS
 * spoken to a plain port or the reverse) from an outage: the first refuses to start with one line, the
 * second is the bus's to ride out. Returns false when Redis could not be reached.
 */
export async function probeRedis(url: string, caFile?: string): Promise<boolean> {
  const where = `REDIS_URL (${new URL(url).host})`;
  const client = new Redis(url, { ...redisConnectionOptions(url, caFile), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, enableOfflineQueue: false });
  // The cause arrives as an 'error' event; connect() itself only rejects with "Connection is closed".
  let cause: { code?: string; message?: string } | null = null;
  client.on('error', (error: Error) => (cause ??= error));
  let connected = false;
  client.once('connect', () => (connected = true));
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    const e = cause ?? (error as { code?: string; message?: string });
    const text = `${e.code ?? ''} ${e.message ?? ''}`;
    if (REDIS_CERTIFICATE_ERRORS.test(text) && !/wrong version/i.test(text)) {
      throw new ConfigError(`Refusing to start: Redis at ${where}: the server's certificate does not verify (${e.code ?? e.message}); check the host name and REDIS_CA_FILE.`);
    }
    if (/wrong version number|packet length too long|ERR_SSL/i.test(text)) {
      throw new ConfigError(`Refusing to start: Redis at ${where}: the server does not speak TLS on that port; use its TLS port, or redis:// only on a trusted local network.`);
    }
    if (connected) {
      throw new ConfigError(`Refusing to start: Redis at ${where}: the server closed the connection without answering; if it speaks TLS only, use rediss://.`);
    }
    return false;
  } finally {
    client.disconnect();
  }
}

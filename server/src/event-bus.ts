import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis, type RedisOptions } from 'ioredis';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from './config-error.ts';
import type { Logger } from './logger.ts';

type Target = ReturnType<typeof createRedisEventTarget<CustomEvent>>;

export type Listener = (payload: unknown) => void;

/**
 * Publish/subscribe between the parts of Vigil: in-process, or across instances through Redis
 * (yoga's Redis event target) when REDIS_URL is set. Payloads must survive JSON.
 */
export interface EventBus {
  publish(topic: string, payload: unknown): void;
  /** Returns the function that unsubscribes. */
  subscribe(topic: string, listener: Listener): () => void;
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
  if (!options.redisUrl) return busOver(new EventTarget() as Target, options.channelPrefix, async () => true, async () => {});
  const connection = redisConnectionOptions(options.redisUrl, options.redisCaFile);
  const publishClient = logged(new Redis(options.redisUrl, { ...connection, lazyConnect: false, maxRetriesPerRequest: 3 }), options.log, 'publish');
  const subscribeClient = logged(new Redis(options.redisUrl, { ...connection, lazyConnect: false }), options.log, 'subscribe');
  const target = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return busOver(
    target,
    options.channelPrefix,
    async () => (await publishClient.ping()) === 'PONG',
    async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  );
}

/** One structured line when a connection is lost and one when it is back, not a stack trace per retry. */
function logged(client: Redis, log: Logger, role: string): Redis {
  let down = false;
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (down) return;
    down = true;
    log.warn({ redis: role, code: error.code ?? null }, 'Redis connection lost; retrying');
  });
  client.on('ready', () => {
    if (down) log.info({ redis: role }, 'Redis connection back');
    down = false;
  });
  return client;
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

function busOver(target: Target, prefix: string, ping: () => Promise<boolean>, close: () => Promise<void>): EventBus {
  // Redis channels are global across databases: the prefix keeps deployments apart.
  const channel = (topic: string) => `${prefix}:${topic}`;
  return {
    publish(topic, payload) {
      target.dispatchEvent(new CustomEvent(channel(topic), { detail: payload }));
    },
    subscribe(topic, listener) {
      const handler = (event: CustomEvent) => listener(event.detail);
      target.addEventListener(channel(topic), handler);
      return () => target.removeEventListener(channel(topic), handler);
    },
    ping,
    close,
  };
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

import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';

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
  close(): Promise<void>;
}

export function createEventBus(options: { redisUrl?: string; channelPrefix: string }): EventBus {
  if (!options.redisUrl) return busOver(new EventTarget() as Target, options.channelPrefix, async () => {});
  const publishClient = new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(options.redisUrl, { lazyConnect: false });
  const target = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return busOver(target, options.channelPrefix, async () => {
    publishClient.disconnect();
    subscribeClient.disconnect();
  });
}

function busOver(target: Target, prefix: string, close: () => Promise<void>): EventBus {
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
    close,
  };
}

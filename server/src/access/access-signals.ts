import type { EventBus } from '../event-bus.ts';

/**
 * Published after a commit that may take access away: sessions ended, a user or role changed, a key
 * revoked. Every instance re-checks the live sockets of that tenant and closes the ones no longer allowed.
 */
export interface AccessSignal {
  tenantId: string;
  sessionIds?: string[];
  userIds?: string[];
  apiKeyIds?: string[];
  /** A role's permissions changed: any socket of the tenant may be affected. */
  everyone?: boolean;
}

const TOPIC = 'access-signals';

export function publishAccessSignal(bus: EventBus, signal: AccessSignal): void {
  bus.publish(TOPIC, signal);
}

export function onAccessSignal(bus: EventBus, listener: (signal: AccessSignal) => void): () => void {
  return bus.subscribe(TOPIC, (payload) => listener(payload as AccessSignal));
}

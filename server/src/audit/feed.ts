import type { EventBus } from '../event-bus.ts';
import type { RecordedEvent } from './journal.ts';

/** An audit event as it travels between instances: JSON-safe. */
export type AuditMessage = Omit<RecordedEvent, 'occurredAt'> & { occurredAt: string };

export const auditTopic = (tenantId: string) => `audit:${tenantId}`;

export function publishAuditEvents(bus: EventBus, events: readonly RecordedEvent[]): void {
  for (const event of events) {
    const message: AuditMessage = { ...event, occurredAt: event.occurredAt.toISOString() };
    bus.publish(auditTopic(event.tenantId), message);
  }
}

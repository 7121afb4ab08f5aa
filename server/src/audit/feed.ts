import type { EventBus } from '../event-bus.ts';
import type { AuditEvent } from './audit-event.entity.ts';
import type { RecordedEvent } from './journal.ts';
import type { AuditFilter } from './search.ts';

/** An audit event as it travels between instances: JSON-safe. */
export type AuditMessage = Omit<RecordedEvent, 'occurredAt'> & { occurredAt: string };

/** What subscribers receive: the same fields whether replayed from the database or delivered live. */
export type AuditRecord = RecordedEvent;

export const auditTopic = (tenantId: string) => `audit:${tenantId}`;

export function publishAuditEvents(bus: EventBus, events: readonly RecordedEvent[]): void {
  for (const event of events) {
    const message: AuditMessage = { ...event, occurredAt: event.occurredAt.toISOString() };
    bus.publish(auditTopic(event.tenantId), message);
  }
}

export function fromMessage(message: AuditMessage): AuditRecord {
  return { ...message, occurredAt: new Date(message.occurredAt) };
}

export function fromEntity(event: AuditEvent): AuditRecord {
  return {
    id: event.id,
    tenantId: event.tenant.id,
    seq: event.seq,
    occurredAt: event.occurredAt,
    action: event.action,
    outcome: event.outcome,
    actorType: event.actorType,
    actorId: event.actorId ?? null,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    sessionId: event.sessionId ?? null,
    details: event.details,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

/** The search filter, applied to one event in memory (live delivery). */
export function matchesFilter(event: AuditRecord, filter: AuditFilter): boolean {
  if (filter.actions?.length && !filter.actions.includes(event.action)) return false;
  if (filter.actorId && event.actorId !== filter.actorId) return false;
  if (filter.targetId && event.targetId !== filter.targetId) return false;
  if (filter.outcome && event.outcome !== filter.outcome) return false;
  if (filter.ip && event.ip !== filter.ip) return false;
  if (filter.since && event.occurredAt < filter.since) return false;
  if (filter.until && event.occurredAt >= filter.until) return false;
  return true;
}

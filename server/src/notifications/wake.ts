import { type AuditAction, AUDIT_ACTIONS, actionsWhere } from '../audit/actions.ts';
import type { RecordedEvent } from '../audit/journal.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { EventBus } from '../event-bus.ts';

/** The actions owners and administrators are mailed of: those the vocabulary marks `notify`. */
export const NOTIFYING_ACTIONS: readonly AuditAction[] = actionsWhere((meaning) => meaning.notify !== undefined);

/** Only the first of each support grant is mailed (details.grantId). */
export const notifiesOncePerGrant = (action: string): boolean => (AUDIT_ACTIONS as Record<string, { notify?: unknown }>)[action]?.notify === 'first_per_grant';

/** The bus topic that wakes the notifiers of every instance: `{ tenantId }` of a company with an event to mail. */
export const NOTIFICATIONS_TOPIC = 'notifications';

const notifying = new Set<string>(NOTIFYING_ACTIONS);

/**
 * Called on the one publish path once events committed: a company with a notifying event wakes the notifiers
 * at once instead of at their next tick. Only a hint: the journal is what they mail from.
 */
export function wakeNotifiers(bus: EventBus, events: readonly RecordedEvent[]): void {
  const tenants = new Set(events.filter((e) => e.tenantId !== PLATFORM_TENANT_ID && notifying.has(e.action)).map((e) => e.tenantId));
  for (const tenantId of tenants) bus.publish(NOTIFICATIONS_TOPIC, { tenantId });
}

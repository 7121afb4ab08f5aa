import { createHash } from 'node:crypto';
import type { AuditRecord } from '../audit/feed.ts';
import { toOcsf } from '../audit/ocsf.ts';
import { VIGIL_PRODUCT } from '../version.ts';
import type { PayloadFormat } from './webhook-endpoint.entity.ts';

/**
 * The body of a delivery, as Standard Webhooks shapes one: `type` (the journal action), `timestamp` (when it
 * happened) and `data`: the entry as the JSONL export writes it (with seq and its chain link, so a receiver
 * can hold it to an evidence bundle), or the OCSF event the OCSF export writes.
 */
export function webhookBody(format: PayloadFormat, record: AuditRecord): string {
  const { tenantId: _tenant, ...entry } = record;
  return JSON.stringify({ type: record.action, timestamp: record.occurredAt.toISOString(), data: format === 'ocsf' ? toOcsf(record, VIGIL_PRODUCT) : entry });
}

/** The `webhook-id` of an event's delivery to an endpoint: the same on every attempt and replay, so a receiver deduplicates. */
export function deliveryId(endpointId: string, eventId: string): string {
  return `msg_${createHash('sha256').update(`${endpointId}:${eventId}`).digest('base64url').slice(0, 32)}`;
}

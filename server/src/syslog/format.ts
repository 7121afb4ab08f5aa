import type { RecordedEvent } from '../audit/journal.ts';
import { AUDIT_ACTIONS, isAuditAction } from '../audit/actions.ts';

/** Vigil's private enterprise number for structured data (the example range of RFC 5612 until one is assigned). */
const SD_ID = 'vigil@32473';
/** Facility 10, authpriv: security and authorization messages (RFC 5424 §6.2.1). */
const FACILITY = 10;
const SEVERITY = { alert: 4, failure: 5, normal: 6 } as const;

/** A PARAM-VALUE as RFC 5424 §6.3.3 escapes it: `"`, `\\` and `]`. */
const sdValue = (value: string) => value.replace(/["\\\]]/g, (c) => `\\${c}`);
/** PRINTUSASCII without spaces, at most `max` long; `-` when empty (the NILVALUE). */
const header = (value: string | null, max: number) => (value ? value.replace(/[^\x21-\x7e]/g, '_').slice(0, max) : '-');

/**
 * One journal event as an RFC 5424 message: severity warning for what the catalogue marks an alert, notice for a
 * failure, informational otherwise; MSGID the action; structured data the company, seq, outcome, actor and chain
 * hash; the message the entry as JSON (as the JSONL export writes it), after a BOM-less UTF-8 body.
 */
export function syslogMessage(event: RecordedEvent, hostname: string, processId: number): string {
  const alert = isAuditAction(event.action) && (AUDIT_ACTIONS[event.action] as { alert?: true }).alert === true;
  const severity = alert ? SEVERITY.alert : event.outcome === 'success' ? SEVERITY.normal : SEVERITY.failure;
  const params: Array<[string, string | number | null]> = [
    ['tenant', event.tenantId],
    ['seq', event.seq],
    ['outcome', event.outcome],
    ['actorType', event.actorType],
    ['actorId', event.actorId],
    ['ip', event.ip],
    ['hash', event.hash],
  ];
  const data = params.filter(([, value]) => value !== null).map(([name, value]) => `${name}="${sdValue(String(value))}"`).join(' ');
  const { tenantId: _tenant, ...entry } = event;
  return `<${FACILITY * 8 + severity}>1 ${event.occurredAt.toISOString()} ${header(hostname, 255)} vigil ${processId} ${header(event.action, 32)} [${SD_ID} ${data}] ${JSON.stringify(entry)}`;
}

/** RFC 5425 §4.3: octet-counting framing over TLS. */
export const frame = (message: string) => `${Buffer.byteLength(message, 'utf8')} ${message}`;

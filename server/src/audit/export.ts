import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import canonicalize from 'canonicalize';
import { stringify } from 'csv-stringify';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { ViewerWork } from '../unit-of-work.ts';
import { badInput } from '../errors.ts';
import { parseInput } from '../validation.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { AuditExport, type ExportFormat } from './audit-export.entity.ts';
import { type AuditRecord, fromEntity } from './feed.ts';
import { toOcsf } from './ocsf.ts';
import { VIGIL_PRODUCT } from '../version.ts';
import { AuditFilterSchema, auditWhere } from './search.ts';

export const EXPORT_LIFETIME_SECONDS = 60;

/** Who may export: the scopes of exportAuditEvents, and of the download route it hands out. */
export const EXPORT_SCOPES = { permission: 'audit.export' } as const;
const BATCH = 1_000;

export const exportPath = (id: string) => `/audit/exports/${id}`;

export async function prepareExport(work: ViewerWork, { filter, format }: { filter: Record<string, unknown>; format: ExportFormat }): Promise<AuditExport> {
  if (format === 'bundle') throw badInput([{ field: 'format', message: 'An evidence bundle is of a seq range, not of a filter: use exportAuditEvidence.' }]);
  parseInput(AuditFilterSchema, filter);
  return issueTicket(work, format, filter);
}

/** The download ticket of an export: what it is of (a filter, or an evidence bundle's range) is kept as JSON. */
export async function issueTicket(work: ViewerWork, format: ExportFormat, filter: Record<string, unknown>): Promise<AuditExport> {
  const { viewer, now } = work;
  const ticket = work.em.create(AuditExport, {
    id: randomUUID(),
    tenant: viewer.tenantId,
    user: viewer.user.id,
    format,
    filter: JSON.parse(JSON.stringify(filter)) as Record<string, unknown>,
    createdAt: now,
    expiresAt: new Date(now.getTime() + EXPORT_LIFETIME_SECONDS * 1000),
    usedAt: null,
  });
  await work.em.flush();
  return ticket;
}

/** Claims the ticket (once) and journals the export; null when not claimable. */
export async function claimExport(work: ViewerWork, id: string): Promise<AuditExport | null> {
  const { viewer, now } = work;
  const ticket = await work.em.findOne(AuditExport, { id, user: viewer.user.id });
  if (!ticket || ticket.usedAt || now >= ticket.expiresAt) return null;
  const claimed = await work.em.nativeUpdate(AuditExport, { id, usedAt: null }, { usedAt: now });
  if (claimed !== 1) return null;
  await work.journal.record({ action: 'audit.exported', target: { type: 'audit_export', id }, details: { format: ticket.format, filter: ticket.filter } });
  return ticket;
}

/** The events an export of a filter holds. */
export function filteredSelection(ticket: AuditExport): ExportSelection {
  return { where: auditWhere(AuditFilterSchema.parse(revive(ticket.filter))) };
}

// The event's id is in the chain: with it, a company verifies an unfiltered export offline (vigil-verify).
const COLUMNS = ['seq', 'id', 'occurredAt', 'action', 'outcome', 'actorType', 'actorId', 'targetType', 'targetId', 'ip', 'userAgent', 'sessionId', 'details', 'prevHash', 'hash'] as const;

type ExportedRecord = Omit<AuditRecord, 'tenantId'>;

/** Each line of a text format; an evidence bundle's events are RFC 8785 JSON, the form the chain hashes. */
const LINES: Record<Exclude<ExportFormat, 'csv'>, (record: AuditRecord) => string> = {
  jsonl: (record) => JSON.stringify(withoutTenant(record)),
  bundle: (record) => canonicalize(withoutTenant(record)) ?? '',
  ocsf: (record) => JSON.stringify(toOcsf(record, VIGIL_PRODUCT)),
};

/** What an export holds: the events matching `where`, after an optional first line (a bundle's header). */
export interface ExportSelection {
  where: FilterQuery<AuditEvent>;
  preamble?: string;
}

/** Streams the selected events, oldest first, in batches: memory stays flat whatever the size. */
export async function streamExport(em: EntityManager, { where, preamble }: ExportSelection, format: ExportFormat, out: Writable): Promise<number> {
  const csv = format === 'csv' ? stringify({ header: true, columns: [...COLUMNS], cast: { object: (value) => JSON.stringify(value), date: (value) => value.toISOString() } }) : null;
  csv?.pipe(out);
  const write = async (chunk: string | Record<string, unknown>) => {
    const ok = csv ? csv.write(chunk) : out.write(chunk as string);
    if (!ok) await once(csv ?? out, 'drain');
  };
  if (preamble !== undefined) await write(`${preamble}\n`);
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await em.find(AuditEvent, { $and: [where, { seq: { $gt: after } }] } as FilterQuery<AuditEvent>, { orderBy: { seq: 'asc' }, limit: BATCH });
    for (const row of rows) {
      const record = fromEntity(row);
      await write(format === 'csv' ? neutralizeFormulas(withoutTenant(record)) : `${LINES[format](record)}\n`);
      count += 1;
      after = row.seq;
    }
    em.clear();
    if (rows.length < BATCH) break;
  }
  if (csv) {
    csv.end();
    await once(csv, 'end');
  }
  out.end();
  return count;
}

function withoutTenant({ tenantId: _tenant, ...record }: AuditRecord): ExportedRecord {
  return record;
}

/** Spreadsheets run cells that start with = + - @ as formulas (CSV injection): such text gets a leading quote. */
function neutralizeFormulas(record: ExportedRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v]));
}

/** The stored filter went through JSON: its dates come back as strings. */
function revive(filter: Record<string, unknown>): Record<string, unknown> {
  return { ...filter, since: filter.since ? new Date(String(filter.since)) : filter.since, until: filter.until ? new Date(String(filter.until)) : filter.until };
}

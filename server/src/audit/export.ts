import type { EntityManager } from '@mikro-orm/postgresql';
import { stringify } from 'csv-stringify';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { ViewerWork } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { AuditExport, type ExportFormat } from './audit-export.entity.ts';
import { fromEntity } from './feed.ts';
import { type AuditFilter, AuditFilterSchema, auditWhere } from './search.ts';

export const EXPORT_LIFETIME_SECONDS = 60;

/** Who may export: the scopes of exportAuditEvents, and of the download route it hands out. */
export const EXPORT_SCOPES = { permission: 'audit.export' } as const;
const BATCH = 1_000;

export const exportPath = (id: string) => `/audit/exports/${id}`;

export async function prepareExport(work: ViewerWork, { filter, format }: { filter: Record<string, unknown>; format: ExportFormat }): Promise<AuditExport> {
  const { viewer, now } = work;
  parseInput(AuditFilterSchema, filter);
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

/** Claims the ticket (once), journals the export, returns the filter to stream; null when not claimable. */
export async function claimExport(work: ViewerWork, id: string): Promise<{ ticket: AuditExport; filter: AuditFilter } | null> {
  const { viewer, now } = work;
  const ticket = await work.em.findOne(AuditExport, { id, user: viewer.user.id });
  if (!ticket || ticket.usedAt || now >= ticket.expiresAt) return null;
  const claimed = await work.em.nativeUpdate(AuditExport, { id, usedAt: null }, { usedAt: now });
  if (claimed !== 1) return null;
  const filter = AuditFilterSchema.parse(revive(ticket.filter));
  await work.journal.record({ action: 'audit.exported', target: { type: 'audit_export', id }, details: { format: ticket.format, filter: ticket.filter } });
  return { ticket, filter };
}

// The event's id is in the chain: with it, a company verifies an unfiltered export offline (offline-verify.ts).
const COLUMNS = ['seq', 'id', 'occurredAt', 'action', 'outcome', 'actorType', 'actorId', 'targetType', 'targetId', 'ip', 'userAgent', 'sessionId', 'details', 'prevHash', 'hash'] as const;

/** Streams the matching events, oldest first, in batches: memory stays flat whatever the size. */
export async function streamExport(em: EntityManager, filter: AuditFilter, format: ExportFormat, out: Writable): Promise<number> {
  const csv = format === 'csv' ? stringify({ header: true, columns: [...COLUMNS], cast: { object: (value) => JSON.stringify(value), date: (value) => value.toISOString() } }) : null;
  csv?.pipe(out);
  const write = async (chunk: string | Record<string, unknown>) => {
    const ok = csv ? csv.write(chunk) : out.write(chunk as string);
    if (!ok) await once(csv ?? out, 'drain');
  };
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await em.find(AuditEvent, auditWhere(filter, { seq: { $gt: after } }), { orderBy: { seq: 'asc' }, limit: BATCH });
    for (const row of rows) {
      const { tenantId: _tenant, ...record } = fromEntity(row);
      await write(csv ? neutralizeFormulas(record) : `${JSON.stringify(record)}\n`);
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

/** Spreadsheets run cells that start with = + - @ as formulas (CSV injection): such text gets a leading quote. */
function neutralizeFormulas(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v]));
}

/** The stored filter went through JSON: its dates come back as strings. */
function revive(filter: Record<string, unknown>): Record<string, unknown> {
  return { ...filter, since: filter.since ? new Date(String(filter.since)) : filter.since, until: filter.until ? new Date(String(filter.until)) : filter.until };
}

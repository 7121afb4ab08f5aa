import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { badInput } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import { AUDIT_OUTCOMES, AuditEvent } from './audit-event.entity.ts';

export const MAX_PAGE_SIZE = 100;

export const AuditFilterSchema = z
  .object({
    actions: z.array(z.string().max(80)).max(50).nullish(),
    actorId: z.string().nullish(),
    targetId: z.string().nullish(),
    outcome: z.enum(AUDIT_OUTCOMES).nullish(),
    ip: z.string().max(64).nullish(),
    since: z.date().nullish(),
    until: z.date().nullish(),
  })
  .default({});

export type AuditFilter = z.infer<typeof AuditFilterSchema>;

/** The filter as a query on the tenant's journal; an id that is not a UUID matches nothing. */
export function auditWhere(filter: AuditFilter, extra: Record<string, unknown> = {}): FilterQuery<AuditEvent> {
  const nothing = '00000000-0000-0000-0000-000000000000';
  const id = (value: string) => (isUuid(value) ? value : nothing);
  return {
    ...(filter.actions?.length ? { action: { $in: filter.actions } } : {}),
    ...(filter.actorId ? { actorId: id(filter.actorId) } : {}),
    ...(filter.targetId ? { targetId: id(filter.targetId) } : {}),
    ...(filter.outcome ? { outcome: filter.outcome } : {}),
    ...(filter.ip ? { ip: filter.ip } : {}),
    ...(filter.since || filter.until ? { occurredAt: timeRange(filter.since, filter.until) } : {}),
    ...extra,
  } as FilterQuery<AuditEvent>;
}

function timeRange(since: Date | null | undefined, until: Date | null | undefined): Record<string, Date> {
  const range: Record<string, Date> = {};
  if (since) range.$gte = since;
  if (until) range.$lt = until;
  return range;
}

/** Cursors are opaque to clients but stable: they name a position in the tenant's gap-free sequence. */
export const encodeCursor = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');

export function decodeCursor(cursor: string): number {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput([{ field: 'after', message: 'This cursor is not one Vigil gave out.' }]);
  return Number(match[1]);
}

export interface AuditPage {
  events: AuditEvent[];
  hasNextPage: boolean;
}

/** Newest first, `first` at most MAX_PAGE_SIZE, after an optional cursor. */
export async function searchAuditEvents(em: EntityManager, filter: AuditFilter, first: number, after: string | null): Promise<AuditPage> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput([{ field: 'first', message: `Ask for 1 to ${MAX_PAGE_SIZE} events.` }]);
  }
  const where = auditWhere(filter, after ? { seq: { $lt: decodeCursor(after) } } : {});
  const rows = await em.find(AuditEvent, where, { orderBy: { seq: 'desc' }, limit: first + 1 });
  return { events: rows.slice(0, first), hasNextPage: rows.length > first };
}

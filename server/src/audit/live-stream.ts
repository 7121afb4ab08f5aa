import { Repeater } from 'graphql-yoga';
import type { Services } from '../services.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { type AuditMessage, type AuditRecord, auditTopic, fromEntity, fromMessage, matchesFilter } from './feed.ts';
import type { AuditFilter } from './search.ts';

const REPLAY_BATCH = 500;
/** Live events buffered for a slow subscriber; beyond this they are dropped and re-read from the database. */
const MAX_BUFFERED = 5_000;

export interface StreamOptions {
  /** Replay every event after this seq first; null starts with the next new event. */
  afterSeq: number | null;
  filter: AuditFilter;
}

/**
 * A tenant's journal as an ordered stream: replay from the database, then live events, each seq exactly
 * once and in order. A live event that arrives ahead of a missing seq (commits racing, a message lost
 * between instances, a buffer overflow) makes the stream read the gap from the database first.
 */
export function auditEventStream(services: Services, tenantId: string, options: StreamOptions): Repeater<AuditRecord> {
  return new Repeater<AuditRecord>(async (push, stop) => {
    const pending: AuditMessage[] = [];
    let overflowed = false;
    let wake: (() => void) | null = null;
    let stopped = false;
    // Subscribe before reading the head, so nothing committed in between is missed.
    const unsubscribe = services.bus.subscribe(auditTopic(tenantId), (payload) => {
      if (pending.length >= MAX_BUFFERED) {
        pending.length = 0;
        overflowed = true;
      }
      pending.push(payload as AuditMessage);
      wake?.();
    });
    void stop.then(() => {
      stopped = true;
      wake?.();
    });
    let last = options.afterSeq ?? (await headSeq(services, tenantId));
    const deliver = async (event: AuditRecord) => {
      last = event.seq;
      if (matchesFilter(event, options.filter)) await push(event);
    };
    const catchUp = async (upTo = Number.MAX_SAFE_INTEGER) => {
      for (;;) {
        const rows = await services.db
          .forTenant(tenantId)
          .find(AuditEvent, { seq: { $gt: last, $lte: upTo } }, { orderBy: { seq: 'asc' }, limit: REPLAY_BATCH });
        for (const row of rows) {
          if (stopped) return;
          await deliver(fromEntity(row));
        }
        if (rows.length < REPLAY_BATCH) return;
      }
    };
    try {
      await catchUp();
      while (!stopped) {
        if (overflowed) {
          overflowed = false;
          await catchUp();
          continue;
        }
        const message = pending.shift();
        if (!message) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        if (message.seq <= last) continue;
        if (message.seq > last + 1) await catchUp(message.seq - 1);
        if (message.seq === last + 1) await deliver(fromMessage(message));
      }
    } finally {
      unsubscribe();
    }
  });
}

async function headSeq(services: Services, tenantId: string): Promise<number> {
  const head = await services.db.forTenant(tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] });
  return head?.seq ?? 0;
}

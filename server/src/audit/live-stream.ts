import { Repeater } from 'graphql-yoga';
import type { Services } from '../services.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { type AuditRecord, fromEntity, matchesFilter } from './feed.ts';
import type { FeedFollower, Renderer } from './live-feeds.ts';
import type { AuditFilter } from './search.ts';

const REPLAY_BATCH = 500;
/** Live events kept while a subscriber catches up; beyond this they are dropped and re-read from the database. */
const MAX_BUFFERED = 5_000;
/** Events a pulling reader may leave unread before the stream waits for it and catches up from the database. */
const PULL_HIGH_WATER = 100;

export interface StreamOptions {
  /** Replay every event after this seq first; null starts with the next new event. */
  afterSeq: number | null;
  filter: AuditFilter;
}

/** Sends one event; returns a promise when the client is behind, resolved once it has caught up. */
export type Deliver = (record: AuditRecord, payload: string | null) => void | Promise<void>;

type State = 'idle' | 'catching-up' | 'live' | 'closed';

/**
 * One subscriber's view of a tenant's journal: a replay from the database, then live events, each seq
 * exactly once and in order. A live event ahead of a missing seq (a client that fell behind, an event
 * the feed could not recover) makes the stream read the gap from the database first.
 * Live events reach it through the tenant's shared feed (LiveFeeds), already rendered.
 */
export class LiveAuditStream implements AsyncIterable<AuditRecord>, FeedFollower {
  #state: State = 'idle';
  #last = 0;
  #positioned = false;
  #buffer: AuditRecord[] = [];
  #deliver: Deliver | null = null;
  #renderer: Renderer | null = null;
  #leave: (() => void) | null = null;
  #ended: { resolve: () => void; reject: (error: unknown) => void } | null = null;

  constructor(
    private readonly services: Services,
    readonly tenantId: string,
    private readonly options: StreamOptions,
  ) {}

  /** The last seq this stream has passed on (or skipped as filtered out); null before it knows where it starts. */
  get lastSeq(): number | null {
    return this.#positioned ? this.#last : null;
  }

  get rendererKey(): string | null {
    return this.#renderer?.key ?? null;
  }

  get renderer(): Renderer | null {
    return this.#renderer;
  }

  /** Starts the stream towards a sink; the promise settles when the stream ends (close) or fails. */
  attach(deliver: Deliver, renderer: Renderer | null): Promise<void> {
    this.#deliver = deliver;
    this.#renderer = renderer;
    const ended = new Promise<void>((resolve, reject) => (this.#ended = { resolve, reject }));
    void this.#start().catch((error: unknown) => this.#fail(error));
    return ended;
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#leave?.();
    this.#ended?.resolve();
  }

  /** Whether a live event should be rendered for this stream right now. */
  wants(record: AuditRecord): boolean {
    return this.#state === 'live' && record.seq === this.#last + 1 && matchesFilter(record, this.options.filter);
  }

  /** From the tenant's feed, in seq order; payload rendered when `wants` said so. */
  offer(record: AuditRecord, payload: string | null): void {
    if (this.#state === 'closed' || this.#state === 'idle') return;
    if (this.#state === 'catching-up') return this.#hold(record);
    if (record.seq <= this.#last) return;
    if (record.seq > this.#last + 1) {
      this.#hold(record);
      return this.#catchUp();
    }
    if (this.#renderer && payload === null && matchesFilter(record, this.options.filter)) {
      // Went live while the feed was rendering for others: render it on the catch-up path.
      this.#hold(record);
      return this.#catchUp();
    }
    this.#last = record.seq;
    if (!matchesFilter(record, this.options.filter)) return;
    const behind = this.#deliver!(record, payload);
    if (behind) {
      this.#state = 'catching-up';
      void behind.then(() => this.#catchUp(true));
    }
  }

  async #start(): Promise<void> {
    // Join before reading the head: nothing committed in between is missed.
    this.#leave = this.services.liveFeeds.join(this);
    this.#state = 'catching-up';
    this.#last = this.options.afterSeq ?? (await headSeq(this.services, this.tenantId));
    this.#positioned = true;
    await this.#replay();
  }

  #hold(record: AuditRecord): void {
    if (this.#buffer.length >= MAX_BUFFERED) this.#buffer = [];
    this.#buffer.push(record);
  }

  #catchUp(alreadyCatchingUp = false): void {
    if (this.#state === 'catching-up' && !alreadyCatchingUp) return;
    if (this.#state === 'closed') return;
    this.#state = 'catching-up';
    void this.#replay().catch((error: unknown) => this.#fail(error));
  }

  /** Delivers from the database everything after #last, then what was held meanwhile, then goes live. */
  async #replay(): Promise<void> {
    for (;;) {
      const rows = await this.services.db
        .forTenant(this.tenantId)
        .find(AuditEvent, { seq: { $gt: this.#last } }, { orderBy: { seq: 'asc' }, limit: REPLAY_BATCH });
      for (const row of rows) {
        if (this.#state === 'closed') return;
        await this.#deliverInOrder(fromEntity(row));
      }
      if (rows.length === REPLAY_BATCH) continue;
      const held = this.#buffer.filter((r) => r.seq > this.#last).sort((a, b) => a.seq - b.seq);
      this.#buffer = [];
      let gap = false;
      for (const record of held) {
        if (this.#state === 'closed') return;
        if (record.seq <= this.#last) continue;
        if (record.seq > this.#last + 1) {
          gap = true;
          break;
        }
        await this.#deliverInOrder(record);
      }
      if (gap) continue;
      // Anything offered while the last delivery awaited is held again: check before going live.
      if (this.#buffer.length) continue;
      if (this.#state !== 'closed') this.#state = 'live';
      return;
    }
  }

  async #deliverInOrder(record: AuditRecord): Promise<void> {
    this.#last = record.seq;
    if (!matchesFilter(record, this.options.filter)) return;
    const payload = this.#renderer ? await this.#renderer.render(record) : null;
    if (this.#state !== 'closed') await this.#deliver!(record, payload);
  }

  #fail(error: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#leave?.();
    this.#ended?.reject(error);
  }

  /**
   * For transports that pull. Vigil serves subscriptions over graphql-ws, which is pushed to (attach);
   * this keeps the stream a plain AsyncIterable for graphql-js, with the same catch-up when the reader lags.
   */
  [Symbol.asyncIterator](): AsyncIterator<AuditRecord> {
    return new Repeater<AuditRecord>(async (push, stop) => {
      let unread = 0;
      const ended = this.attach((record) => {
        unread++;
        const read = push(record).then(() => void unread--);
        return unread > PULL_HIGH_WATER ? read : undefined;
      }, null);
      await Promise.race([stop, ended]);
      this.close();
    })[Symbol.asyncIterator]();
  }
}

async function headSeq(services: Services, tenantId: string): Promise<number> {
  const head = await services.db.forTenant(tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] });
  return head?.seq ?? 0;
}

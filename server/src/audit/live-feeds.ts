import type { EventBus } from '../event-bus.ts';
import type { Database } from '../db/database.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { type AuditMessage, type AuditRecord, auditTopic, fromEntity, fromMessage } from './feed.ts';

/** How long an event ahead of a missing seq waits for it (commits racing) before the gap is read from the database. */
const GAP_GRACE_MS = 50;
const GAP_READ_LIMIT = 500;
/** While the bus is down, each followed journal is read this often: no event waits for the next one. */
export const OUTAGE_POLL_MS = 500;
/**
 * While it is up, this often: a message the bus lost is otherwise noticed only when a later event shows the
 * gap, and the last event of a burst has no later one (seen as a subscriber waiting for the 20th of 20).
 */
export const TAIL_CHECK_MS = 2000;

/**
 * One subscription to each tenant's journal topic per instance, however many streams follow it. Events
 * are put back in seq order (a gap left by a lost message is read from the database once, for every
 * stream), each is rendered once per distinct operation among the streams that want it, then offered
 * to every stream: the fan-out costs one execution and one serialisation per operation, not per subscriber.
 */
export class LiveFeeds {
  readonly #feeds = new Map<string, TenantFeed>();
  readonly #stopWatching: () => void;
  #poll: NodeJS.Timeout | null = null;
  #pollEvery: number | null = null;

  /**
   * The bus is the fast path, the journal the truth: while the bus is down every followed journal is read
   * past its last seq every OUTAGE_POLL_MS, and once more when the bus returns (what was published while
   * it came back may be lost), so events made during an outage arrive without waiting for a later one.
   */
  constructor(
    private readonly bus: EventBus,
    private readonly readGap: GapReader,
    /** Told how many subscribers each event was handed to (the metrics' live deliveries). */
    private readonly handedOut: (subscribers: number) => void = () => {},
  ) {
    this.#stopWatching = bus.onStateChange((state) => this.#follow(state));
    this.#follow(bus.state);
  }

  /** Live journal subscriptions open on this instance, over every company. */
  get subscribers(): number {
    let count = 0;
    for (const feed of this.#feeds.values()) count += feed.streams.size;
    return count;
  }

  close(): void {
    this.#stopWatching();
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    this.#pollEvery = null;
  }

  #follow(state: EventBus['state']): void {
    const every = state === 'down' ? OUTAGE_POLL_MS : TAIL_CHECK_MS;
    if (this.#pollEvery === every) return;
    const wasDown = this.#pollEvery === OUTAGE_POLL_MS;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = setInterval(() => this.#catchUpAll(), every);
    this.#poll.unref();
    this.#pollEvery = every;
    if (wasDown) this.#catchUpAll();
  }

  #catchUpAll(): void {
    for (const feed of this.#feeds.values()) void feed.catchUp();
  }

  join(stream: FeedFollower): () => void {
    let feed = this.#feeds.get(stream.tenantId);
    if (!feed) {
      feed = new TenantFeed(this.bus, stream.tenantId, this.readGap, this.handedOut);
      this.#feeds.set(stream.tenantId, feed);
    }
    feed.streams.add(stream);
    return () => {
      feed.streams.delete(stream);
      if (!feed.streams.size) {
        feed.close();
        this.#feeds.delete(stream.tenantId);
      }
    };
  }
}

/**
 * Turns an event into the JSON a subscriber receives. Streams sharing a key share the rendering: the
 * operation is executed once per event for all of them.
 */
export interface Renderer {
  key: string;
  render(record: AuditRecord): Promise<string>;
}

/** What a feed needs of the streams that follow it (LiveAuditStream). */
export interface FeedFollower {
  readonly tenantId: string;
  readonly renderer: Renderer | null;
  readonly rendererKey: string | null;
  /** The last seq the stream passed on; null before it knows where it starts. */
  readonly lastSeq: number | null;
  /** Whether a live event should be rendered for this stream right now. */
  wants(record: AuditRecord): boolean;
  offer(record: AuditRecord, payload: string | null): void;
}

/** Events of a tenant with fromSeq ≤ seq < toSeq, in order (at most a page of them). */
export type GapReader = (tenantId: string, fromSeq: number, toSeq: number) => Promise<AuditRecord[]>;

export function gapReader(db: Database): GapReader {
  return async (tenantId, fromSeq, toSeq) => {
    const rows = await db
      .forTenant(tenantId)
      .find(AuditEvent, { seq: { $gte: fromSeq, $lt: toSeq } }, { orderBy: { seq: 'asc' }, limit: GAP_READ_LIMIT });
    return rows.map(fromEntity);
  };
}

class TenantFeed {
  readonly streams = new Set<FeedFollower>();
  readonly #unsubscribe: () => void;
  /** Arrived but not yet offered, by seq. */
  readonly #held = new Map<number, AuditRecord>();
  #next: number | null = null;
  #running = false;
  #gapTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #catchingUp = false;

  constructor(
    bus: EventBus,
    private readonly tenantId: string,
    private readonly readGap: GapReader,
    private readonly handedOut: (subscribers: number) => void,
  ) {
    this.#unsubscribe = bus.subscribe(auditTopic(tenantId), (payload) => this.#arrive(fromMessage(payload as AuditMessage)));
  }

  close(): void {
    this.#closed = true;
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#unsubscribe();
  }

  /** Reads the journal past what was offered (or past the streams' own positions, before any event). */
  async catchUp(): Promise<void> {
    if (this.#closed || this.#catchingUp) return;
    const positions = [...this.streams].map((stream) => stream.lastSeq).filter((seq): seq is number => seq !== null);
    const from = this.#next ?? Math.min(...positions) + 1;
    if (!Number.isFinite(from)) return;
    this.#catchingUp = true;
    try {
      for (const record of await this.readGap(this.tenantId, from, Number.MAX_SAFE_INTEGER)) this.#arrive(record);
    } catch {
      // The database away as well: the next round reads it.
    } finally {
      this.#catchingUp = false;
    }
  }

  #arrive(record: AuditRecord): void {
    if (this.#next !== null && record.seq < this.#next) return;
    this.#held.set(record.seq, record);
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      for (let record = this.#takeNext(); record && !this.#closed; record = this.#takeNext()) await this.#fanOut(record);
    } finally {
      this.#running = false;
    }
    if (this.#held.size && !this.#gapTimer && !this.#closed) this.#gapTimer = setTimeout(() => void this.#fillGap(), GAP_GRACE_MS);
  }

  #takeNext(): AuditRecord | undefined {
    this.#next ??= Math.min(...this.#held.keys());
    const record = this.#held.get(this.#next);
    if (!record) return undefined;
    this.#held.delete(this.#next);
    this.#next += 1;
    return record;
  }

  async #fillGap(): Promise<void> {
    this.#gapTimer = null;
    if (this.#closed || !this.#held.size || this.#next === null) return;
    const until = Math.min(...this.#held.keys());
    if (until > this.#next) {
      try {
        for (const record of await this.readGap(this.tenantId, this.#next, until)) this.#held.set(record.seq, record);
      } catch {
        // The streams notice the gap themselves and read it when they get the next event.
      }
      // Rows missing from the database too (never committed) are skipped: seqs are gap-free once written.
      if (!this.#held.has(this.#next)) this.#next = Math.min(...this.#held.keys());
    }
    if (!this.#running) void this.#run();
  }

  async #fanOut(record: AuditRecord): Promise<void> {
    const renderers = new Map<string, Renderer>();
    for (const stream of this.streams) {
      const renderer = stream.renderer;
      if (renderer && !renderers.has(renderer.key) && stream.wants(record)) renderers.set(renderer.key, renderer);
    }
    const payloads = new Map<string, string>();
    await Promise.all([...renderers].map(async ([key, renderer]) => payloads.set(key, await renderer.render(record))));
    for (const stream of this.streams) {
      const key = stream.rendererKey;
      stream.offer(record, key ? (payloads.get(key) ?? null) : null);
    }
    this.handedOut(this.streams.size);
  }
}

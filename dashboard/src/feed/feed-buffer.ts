import type { AuditEvent, AuditFilter } from '../lib/types.ts';

/** What became of an event offered to the buffer. */
export type AddResult = 'added' | 'duplicate' | 'gap';

/**
 * The live feed's memory of the tenant journal: its newest events in seq order, at most `capacity`.
 *
 * The feed follows the journal unfiltered, and a tenant's seqs are gap-free, so the buffer can be strict:
 * - seq <= lastSeq is a duplicate: delivery is at least once, and a reconnect replays from lastSeq;
 * - seq === lastSeq + 1 is the next event;
 * - anything beyond is a gap and is refused, so lastSeq never skips an event: the caller resubscribes
 *   from lastSeq and the server replays what was missing, in order.
 * A buffer of a filtered stream (`filtered`) takes any seq after lastSeq: the server skips what the filter
 * leaves out, and still sends the rest in seq order, so there is no gap to see.
 */
export class FeedBuffer {
  #events: AuditEvent[] = [];
  #lastSeq: number;

  constructor(
    readonly capacity: number,
    lastSeq = 0,
    readonly filtered = false,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#lastSeq = lastSeq;
  }

  /** The seq to resume from after a reconnect: every event up to it has been seen. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get size(): number {
    return this.#events.length;
  }

  /** The kept events, newest first (a copy). */
  newestFirst(): AuditEvent[] {
    return this.#events.toReversed();
  }

  /**
   * Starts over from a page of history (any order, duplicates allowed), which ends at `headSeq`:
   * the journal's newest seq when the page was read (by default the page's own newest).
   */
  reset(history: readonly AuditEvent[], headSeq?: number): void {
    const bySeq = new Map(history.map((event) => [event.seq, event]));
    const ascending = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.#events = ascending.slice(-this.capacity);
    this.#lastSeq = Math.max(headSeq ?? 0, ascending.at(-1)?.seq ?? 0);
  }

  add(event: AuditEvent): AddResult {
    if (event.seq <= this.#lastSeq) return 'duplicate';
    if (!this.filtered && event.seq !== this.#lastSeq + 1) return 'gap';
    this.#events.push(event);
    this.#lastSeq = event.seq;
    if (this.#events.length > this.capacity) this.#events.splice(0, this.#events.length - this.capacity);
    return 'added';
  }
}

/** The journal's search filter applied in the browser, with the server's meaning (exact matches). */
export function matchesFilter(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.actions?.length && !filter.actions.includes(event.action)) return false;
  if (filter.actorId && event.actorId !== filter.actorId) return false;
  if (filter.outcome && event.outcome !== filter.outcome) return false;
  if (filter.ip && event.ip !== filter.ip) return false;
  return true;
}

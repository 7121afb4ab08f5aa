import type { Client } from 'graphql-ws';
import { describeError, gql } from '../lib/api.ts';
import { EVENT_FIELDS } from '../lib/audit.ts';
import { fetchViewer } from '../lib/auth.ts';
import { CLOSE_FORBIDDEN, type LinkState, createLiveClient, isCloseEvent } from '../lib/live.ts';
import { SESSION_ENDED, endSession } from '../lib/session.svelte.ts';
import type { AuditEvent, AuditFilter } from '../lib/types.ts';
import { FeedBuffer } from './feed-buffer.ts';
import { followJournal } from './feed-stream.ts';

/** Events kept in the browser; older ones are in the journal. */
const CAPACITY = 500;
// 50, not the documented maximum of 100: a page of 100 with these fields exceeds the server's query cost limit.
const HISTORY = `query FeedHistory($filter: AuditEventFilter) { auditEvents(first: 50, filter: $filter) { edges { node { ${EVENT_FIELDS} } } } }`;
const HEAD = 'query JournalHead { auditEvents(first: 1) { edges { node { seq } } } }';
type Page<T> = { auditEvents: { edges: Array<{ node: T }> } };

/**
 * The live feed of one page visit: recent history, then every new event as it commits. With a filter
 * (the Company screen's support accesses), both the history and the stream are only the matching events.
 */
export class LiveFeed {
  /** Newest first. */
  events = $state.raw<AuditEvent[]>([]);
  link = $state<LinkState>('connecting');
  problem = $state<string | null>(null);
  #buffer: FeedBuffer;
  #client: Client | null = null;
  #stop = () => {};
  #running = false;
  readonly filter: AuditFilter | undefined;

  constructor(filter?: AuditFilter) {
    this.filter = filter;
    this.#buffer = new FeedBuffer(CAPACITY, 0, filter !== undefined);
  }

  get lastSeq(): number {
    return this.#buffer.lastSeq;
  }

  /** Reads the newest page of the journal, then follows it from there: nothing in between is missed. */
  async start(): Promise<void> {
    this.#running = true;
    this.problem = null;
    this.link = 'connecting';
    // A restart after a failure keeps the buffer and resumes from its last seq.
    if (this.#buffer.lastSeq === 0) {
      try {
        // Filtered, the newest match may be far behind the journal's head: the stream resumes from the head,
        // read first, so that nothing committed before the history is replayed and nothing after it is missed.
        const head = this.filter ? ((await gql<Page<{ seq: number }>>(HEAD)).auditEvents.edges[0]?.node.seq ?? 0) : undefined;
        const data = await gql<Page<AuditEvent>>(HISTORY, { filter: this.filter ?? null });
        this.#buffer.reset(data.auditEvents.edges.map((edge) => edge.node), head);
        this.#refresh();
      } catch (failure) {
        if (this.#running) this.#fail(`The journal could not be read: ${describeError(failure)}`);
        return;
      }
    }
    if (!this.#running) return;
    this.#client = createLiveClient((state) => (this.link = state));
    this.#stop = followJournal(this.#client, this.#buffer, { onEvents: () => this.#refresh(), onEnd: (reason) => void this.#ended(reason) }, this.filter);
  }

  stop(): void {
    this.#running = false;
    this.#stop();
    void this.#client?.dispose();
    this.#client = null;
  }

  #refresh(): void {
    this.events = this.#buffer.newestFirst();
  }

  #fail(problem: string): void {
    this.stop();
    this.link = 'closed';
    this.problem = problem;
  }

  async #ended(reason: unknown): Promise<void> {
    this.#fail('The live feed stopped.');
    if (!isCloseEvent(reason) || reason.code !== CLOSE_FORBIDDEN) return;
    // 4403: the session ended, or the permission to read the journal was taken away.
    const viewer = await fetchViewer().catch(() => undefined);
    if (viewer === null) endSession(SESSION_ENDED);
    else if (viewer && !viewer.permissions.includes('audit.read')) this.problem = 'You no longer have permission to watch the journal.';
  }
}

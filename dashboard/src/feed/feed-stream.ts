import type { Client } from 'graphql-ws';
import { EVENT_FIELDS } from '../lib/audit.ts';
import type { AuditEvent, AuditFilter } from '../lib/types.ts';
import type { FeedBuffer } from './feed-buffer.ts';

export const FEED_SUBSCRIPTION = `subscription LiveFeed($afterSeq: SafeInt, $filter: AuditEventFilter) { auditEvents(afterSeq: $afterSeq, filter: $filter) { ${EVENT_FIELDS} } }`;

export interface FollowHandlers {
  /** The buffer took new events. */
  onEvents(): void;
  /** The stream ended for good: a close event (4403…), a list of GraphQL errors, or an Error. */
  onEnd(reason: unknown): void;
}

/**
 * Follows the whole tenant journal into `buffer` from `buffer.lastSeq` on (or only the events matching
 * `filter`, into a buffer made for a filtered stream); returns the function that stops.
 *
 * graphql-ws sends the subscribe message again after every reconnect, serialising the payload at that
 * moment: `variables` is a getter, so each resubscription asks the server to replay from the last seq
 * the buffer holds. Replayed events the buffer already has are dropped as duplicates. If the buffer
 * ever reports a gap, the subscription is restarted from lastSeq so the server fills it in order.
 */
export function followJournal(client: Client, buffer: FeedBuffer, handlers: FollowHandlers, filter?: AuditFilter): () => void {
  const payload = {
    query: FEED_SUBSCRIPTION,
    get variables() {
      return filter ? { afterSeq: buffer.lastSeq, filter } : { afterSeq: buffer.lastSeq };
    },
  };
  let generation = 0;
  let dispose = () => {};
  const start = () => {
    // Messages still in flight for a replaced subscription are ignored.
    const mine = ++generation;
    dispose = client.subscribe<{ auditEvents: AuditEvent }>(payload, {
      next: (result) => {
        if (mine !== generation) return;
        if (result.errors?.length) return end(result.errors);
        const event = result.data?.auditEvents;
        if (!event) return;
        const outcome = buffer.add(event);
        if (outcome === 'added') handlers.onEvents();
        if (outcome === 'gap') restart();
      },
      error: (reason) => mine === generation && end(reason),
      complete: () => {},
    });
  };
  const restart = () => {
    dispose();
    start();
  };
  const end = (reason: unknown) => {
    generation++;
    dispose();
    handlers.onEnd(reason);
  };
  start();
  return () => {
    generation++;
    dispose();
  };
}

/**
 * The live feed's resume logic against a real graphql-ws server and client (no Vigil: a journal in
 * memory that replays from afterSeq like Vigil's does), with connections cut in the middle.
 */
import { type AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { FeedBuffer } from '../../dashboard/src/feed/feed-buffer.ts';
import { followJournal } from '../../dashboard/src/feed/feed-stream.ts';
import { type LinkState, createLiveClient } from '../../dashboard/src/lib/live.ts';
import type { AuditEvent } from '../../dashboard/src/lib/types.ts';

const schema = buildSchema(`
  scalar SafeInt
  scalar JSONObject
  type User { id: ID! email: String! displayName: String! }
  type AuditEvent { id: ID! seq: SafeInt! occurredAt: String! action: String! outcome: String! actorType: String!
    actorId: ID actor: User targetType: String targetId: ID ip: String userAgent: String sessionId: ID details: JSONObject! }
  type Query { ok: Boolean }
  type Subscription { auditEvents(afterSeq: SafeInt): AuditEvent! }
`);

function event(seq: number): AuditEvent {
  return {
    id: `e${seq}`, seq, occurredAt: new Date().toISOString(), action: 'session.signed_in', outcome: 'SUCCESS', actorType: 'USER',
    actorId: null, actor: null, targetType: null, targetId: null, ip: null, userAgent: null, sessionId: null, details: {},
  };
}

/** A journal with live subscribers; `silently` commits without notifying them (a lost message). */
function fakeJournal() {
  const events: AuditEvent[] = [];
  const listeners = new Set<(e: AuditEvent) => void>();
  const subscribedAfter: Array<number | null> = [];
  return {
    subscribedAfter,
    commit(seq: number, options: { silently?: boolean } = {}) {
      const e = event(seq);
      events.push(e);
      if (!options.silently) listeners.forEach((listener) => listener(e));
    },
    async *stream(afterSeq: number | null): AsyncGenerator<{ auditEvents: AuditEvent }> {
      subscribedAfter.push(afterSeq);
      const queue: AuditEvent[] = [];
      let wake: (() => void) | null = null;
      const listener = (e: AuditEvent) => (queue.push(e), wake?.());
      listeners.add(listener);
      try {
        for (const e of events.filter((x) => x.seq > (afterSeq ?? Infinity))) yield { auditEvents: e };
        for (;;) {
          const next = queue.shift();
          if (next) yield { auditEvents: next };
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        listeners.delete(listener);
      }
    },
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(history: number) {
  const journal = fakeJournal();
  for (let seq = 1; seq <= history; seq++) journal.commit(seq);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const server = useServer(
    { schema, subscribe: undefined, roots: { subscription: { auditEvents: ({ afterSeq }: { afterSeq: number | null }) => journal.stream(afterSeq) } } },
    wss,
  );
  const states: LinkState[] = [];
  const client = createLiveClient((state) => states.push(state), `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`);
  const buffer = new FeedBuffer(1000);
  buffer.reset(Array.from({ length: history }, (_, i) => event(i + 1)));
  const ended: unknown[] = [];
  const stop = followJournal(client, buffer, { onEvents: () => {}, onEnd: (reason) => ended.push(reason) });
  cleanups.push(() => new Promise((resolve) => wss.close(resolve)), () => server.dispose(), () => client.dispose(), stop);
  return { journal, wss, buffer, states, ended };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const seqs = (buffer: FeedBuffer) => buffer.newestFirst().map((e) => e.seq).reverse();
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('following the journal over graphql-ws', () => {
  test('subscribes after the history it already has and receives new events', async () => {
    const { journal, buffer, states } = await setUp(5);
    await until(() => journal.subscribedAfter.length === 1 && states.includes('live'));
    expect(journal.subscribedAfter).toEqual([5]);
    journal.commit(6);
    journal.commit(7);
    await until(() => buffer.lastSeq === 7);
    expect(seqs(buffer)).toEqual(oneTo(7));
  });

  test('after the connection drops it resumes from the last seq: events committed meanwhile arrive, none twice', async () => {
    const { journal, wss, buffer, states } = await setUp(3);
    await until(() => states.includes('live'));
    journal.commit(4);
    await until(() => buffer.lastSeq === 4);
    for (const socket of wss.clients) socket.terminate();
    await until(() => states.at(-1) === 'reconnecting');
    journal.commit(5);
    journal.commit(6);
    await until(() => journal.subscribedAfter.length === 2 && states.at(-1) === 'live');
    expect(journal.subscribedAfter).toEqual([3, 4]);
    journal.commit(7);
    await until(() => buffer.lastSeq === 7);
    expect(seqs(buffer)).toEqual(oneTo(7));
  });

  test('a live event past a gap makes it resubscribe, and the replay fills the gap in order', async () => {
    const { journal, buffer, states } = await setUp(2);
    await until(() => states.includes('live'));
    journal.commit(3, { silently: true });
    journal.commit(4);
    await until(() => buffer.lastSeq === 4);
    expect(journal.subscribedAfter).toEqual([2, 2]);
    expect(seqs(buffer)).toEqual(oneTo(4));
  });

  test('a 4403 close (session revoked) ends the feed without retrying', async () => {
    const { journal, wss, ended, states } = await setUp(1);
    await until(() => states.includes('live'));
    for (const socket of wss.clients) socket.close(4403, 'Forbidden');
    await until(() => ended.length === 1);
    expect(ended[0]).toMatchObject({ code: 4403 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(journal.subscribedAfter).toHaveLength(1);
  });
});

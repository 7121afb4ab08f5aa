/**
 * The live feed's resume logic (dashboard/src/feed) against a real Vigil: its graphql-ws server, its
 * journal replaying from afterSeq, its 4403 on revocation, with connections cut in the middle.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { FeedBuffer } from '../../dashboard/src/feed/feed-buffer.ts';
import { followJournal } from '../../dashboard/src/feed/feed-stream.ts';
import { EVENT_FIELDS } from '../../dashboard/src/lib/audit.ts';
import { type LinkState, createLiveClient } from '../../dashboard/src/lib/live.ts';
import type { AuditEvent } from '../../dashboard/src/lib/types.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The dashboard's client as an app would open it, with its sockets kept, so that the test can cut them. */
async function setUp(history: number) {
  const owner = await signUpTenant(vigil.client());
  const api = bearerClient(vigil, owner.token);
  await writeEvents(vigil, owner.tenantId, history);
  const page = await api.ok(`{ auditEvents(first: 100) { edges { node { ${EVENT_FIELDS} } } } }`);
  const buffer = new FeedBuffer(1000);
  buffer.reset(page.auditEvents.edges.map((edge: { node: AuditEvent }) => edge.node));
  const sockets: WebSocket[] = [];
  class KeptWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const states: LinkState[] = [];
  const client = createLiveClient((state) => states.push(state), `${vigil.url.replace('http', 'ws')}/graphql`, {
    connectionParams: { authorization: `Bearer ${owner.token}` },
    webSocketImpl: KeptWebSocket,
  });
  const ended: unknown[] = [];
  const stop = followJournal(client, buffer, { onEvents: () => {}, onEnd: (reason) => ended.push(reason) });
  cleanups.push(() => client.dispose(), stop);
  /** The afterSeq of each subscription the server served, from its own journal. */
  const subscribedAfter = async () =>
    (await auditRows(vigil, owner.tenantId)).filter((row) => row.action === 'audit.stream_opened').map((row) => row.details.afterSeq as number | null);
  const commit = (count: number) => writeEvents(vigil, owner.tenantId, count);
  /** The journal's last seq, as the database has it. */
  const head = async () => Math.max(...(await auditRows(vigil, owner.tenantId)).map((row) => Number(row.seq)));
  return { owner, api, buffer, states, ended, sockets, subscribedAfter, commit, head };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const seqs = (buffer: FeedBuffer) => buffer.newestFirst().map((e) => e.seq).reverse();
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('following the journal over graphql-ws', () => {
  test('subscribes after the history it already has and receives new events', async () => {
    const { buffer, states, subscribedAfter, commit, head } = await setUp(5);
    const held = buffer.lastSeq;
    await until(async () => states.includes('live') && (await subscribedAfter()).length === 1);
    expect(await subscribedAfter()).toEqual([held]);
    await commit(2);
    const last = await head();
    await until(() => buffer.lastSeq === last);
    expect(seqs(buffer)).toEqual(oneTo(last));
  });

  test('after the connection drops it resumes from the last seq: events committed meanwhile arrive, none twice', async () => {
    const { buffer, states, sockets, subscribedAfter, commit, head } = await setUp(3);
    await until(async () => states.includes('live') && (await subscribedAfter()).length === 1);
    await commit(1);
    const reached = await head();
    await until(() => buffer.lastSeq === reached);
    const before = buffer.lastSeq;
    for (const socket of sockets) socket.terminate();
    await until(() => states.at(-1) === 'reconnecting');
    await commit(2);
    await until(async () => (await subscribedAfter()).length === 2 && states.at(-1) === 'live');
    expect((await subscribedAfter())[1]).toBe(before);
    await commit(1);
    const last = await head();
    await until(() => buffer.lastSeq === last);
    expect(seqs(buffer)).toEqual(oneTo(last));
  });

  test('an event past a gap in what it holds makes it resubscribe, and the replay fills the gap in order', async () => {
    const { buffer, states, subscribedAfter, commit, head } = await setUp(2);
    await until(async () => states.includes('live') && (await subscribedAfter()).length === 1);
    const opened = await head();
    await until(() => buffer.lastSeq === opened);
    // The client loses its newest event (as if a message went missing): the next one arrives past a gap.
    buffer.reset(buffer.newestFirst().slice(1));
    await commit(1);
    await until(async () => (await subscribedAfter()).length === 2);
    const last = await head();
    await until(() => buffer.lastSeq === last);
    expect((await subscribedAfter())[1]).toBe(opened - 1);
    expect(seqs(buffer)).toEqual(oneTo(last));
  });

  test('a 4403 close (session revoked) ends the feed without retrying', async () => {
    const { owner, api, ended, states, subscribedAfter } = await setUp(1);
    await until(async () => states.includes('live') && (await subscribedAfter()).length === 1);
    await api.ok('mutation($id: ID!) { revokeSession(id: $id) { id } }', { id: owner.sessionId });
    await until(() => ended.length === 1);
    expect(ended[0]).toMatchObject({ code: 4403 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await subscribedAfter()).toHaveLength(1);
  });
});

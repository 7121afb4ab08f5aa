import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { signUpTenant } from '../support/factories.ts';
import { testAction, writeEvents } from '../support/journal.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { collect, liveClient } from '../support/live.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const FEED = 'subscription($after: SafeInt, $filter: AuditEventFilter) { auditEvents(afterSeq: $after, filter: $filter) { seq action outcome actor { email } } }';

describe('the live journal', () => {
  test('replays after afterSeq, then delivers new events in seq order', async () => {
    const owner = await signUpTenant(vigil.client());
    const live = liveClient(vigil.url, { token: owner.token });
    const feed = collect<{ auditEvents: { seq: number; action: string } }>(live, FEED, { after: 0 });
    await feed.until((items) => items.some((i) => i.auditEvents.action === 'audit.stream_opened'));
    await writeEvents(vigil, owner.tenantId, 3);
    const items = await feed.until((all) => all.filter((i) => i.auditEvents.action === 'test.marker').length === 3);
    const seqs = items.map((i) => i.auditEvents.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBe(1);
    expect(new Set(seqs).size).toBe(seqs.length);
    await live.dispose();
  });

  test('events are published only after their transaction commits: a rolled-back one is never seen', async () => {
    const owner = await signUpTenant(vigil.client());
    const live = liveClient(vigil.url, { token: owner.token });
    const feed = collect<{ auditEvents: { seq: number; action: string } }>(live, FEED, { filter: { actions: ['test.rolled_back', 'test.marker'] } });
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
    await expect(
      inTenantTransaction(vigil.services, { tenantId: owner.tenantId, origin, viewer: null }, async ({ journal }) => {
        await journal.record({ action: testAction('test.rolled_back') });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await writeEvents(vigil, owner.tenantId, 1);
    const items = await feed.until((all) => all.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(items.map((i) => i.auditEvents.action)).toEqual(['test.marker']);
    const rows = await auditRows(vigil, owner.tenantId);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    await live.dispose();
  });

  test('a subscriber that disconnects during 500 writes and resumes from its last seq gets all 500, in order, once', async () => {
    const owner = await signUpTenant(vigil.client());
    const filter = { actions: ['test.marker'] };
    const first = liveClient(vigil.url, { token: owner.token });
    const before = collect<{ auditEvents: { seq: number } }>(first, FEED, { filter });
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    await writeEvents(vigil, owner.tenantId, 100);
    await before.until((items) => items.length === 100);
    await first.dispose();
    await waitFor(() => first.closes.length > 0);
    const received = [...before.items];
    const lastSeen = received.at(-1)!.auditEvents.seq;
    // 300 writes while nobody listens, then 100 more racing the reconnection.
    await writeEvents(vigil, owner.tenantId, 300);
    const racing = writeEvents(vigil, owner.tenantId, 100);
    const second = liveClient(vigil.url, { token: owner.token });
    const after = collect<{ auditEvents: { seq: number } }>(second, FEED, { filter, after: lastSeen });
    await racing;
    await after.until((items) => received.length + items.length >= 500, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    received.push(...after.items);
    expect(before.items).toHaveLength(100);
    const seqs = received.map((i) => i.auditEvents.seq);
    expect(seqs).toHaveLength(500);
    expect(new Set(seqs).size).toBe(500);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await second.dispose();
  }, 60_000);

  test('an event whose message was lost between instances is read from the database and delivered in order', async () => {
    const owner = await signUpTenant(vigil.client());
    const live = liveClient(vigil.url, { token: owner.token });
    const feed = collect<{ auditEvents: { seq: number; action: string } }>(live, FEED, { filter: { actions: ['test.lost', 'test.marker'] } });
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const lostBus = { ...vigil.services.bus, publish: () => {} };
    const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
    await inTenantTransaction({ ...vigil.services, bus: lostBus }, { tenantId: owner.tenantId, origin, viewer: null }, ({ journal }) => journal.record({ action: testAction('test.lost') }));
    await writeEvents(vigil, owner.tenantId, 1);
    const items = await feed.until((all) => all.length >= 2);
    expect(items.map((i) => i.auditEvents.action)).toEqual(['test.lost', 'test.marker']);
    expect(items[1].auditEvents.seq).toBe(items[0].auditEvents.seq + 1);
    await live.dispose();
  });

  test('the last event of a burst whose message was lost arrives without a later event to show the gap', async () => {
    const owner = await signUpTenant(vigil.client());
    const live = liveClient(vigil.url, { token: owner.token });
    const feed = collect<{ auditEvents: { seq: number; action: string } }>(live, FEED, { filter: { actions: ['test.lost_last', 'test.marker'] } });
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    await writeEvents(vigil, owner.tenantId, 2);
    await feed.until((all) => all.length >= 2);
    const lostBus = { ...vigil.services.bus, publish: () => {} };
    const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
    await inTenantTransaction({ ...vigil.services, bus: lostBus }, { tenantId: owner.tenantId, origin, viewer: null }, ({ journal }) => journal.record({ action: testAction('test.lost_last') }));
    // Nothing follows it: the feed's tail check reads it from the journal (every TAIL_CHECK_MS).
    const items = await feed.until((all) => all.length >= 3);
    expect(items.map((i) => i.auditEvents.action)).toEqual(['test.marker', 'test.marker', 'test.lost_last']);
    await live.dispose();
  });

  test('a subscriber that stops reading falls behind and catches up without losing or reordering an event', async () => {
    const owner = await signUpTenant(vigil.client());
    const ws = new WebSocket(`${vigil.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const seqs: number[] = [];
    let acked!: () => void;
    const ack = new Promise<void>((resolve) => (acked = resolve));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } })));
    ws.on('message', (raw: Buffer) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection_ack') return acked();
      if (message.type === 'next') seqs.push(message.payload.data.auditEvents.seq);
    });
    await ack;
    const query = 'subscription { auditEvents(filter: { actions: ["test.bulky"] }) { seq details } }';
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    // Unread, ~16 MB of events overflow the socket buffers and the server's high-water mark.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
    const filler = 'x'.repeat(16_000);
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 125; i++) {
        await inTenantTransaction(vigil.services, { tenantId: owner.tenantId, origin, viewer: null }, ({ journal }) =>
          journal.record({ action: testAction('test.bulky'), details: { w, i, filler } }),
        );
      }
    });
    await Promise.all(writers);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor(() => seqs.length >= 1000, 30_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seqs).toHaveLength(1000);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(1000);
    ws.close();
  }, 90_000);
});

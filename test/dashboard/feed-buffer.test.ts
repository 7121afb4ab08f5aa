import { describe, expect, test } from 'vitest';
import { FeedBuffer, matchesFilter } from '../../dashboard/src/feed/feed-buffer.ts';
import type { AuditEvent } from '../../dashboard/src/lib/types.ts';

function event(seq: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `event-${seq}`,
    seq,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    action: 'session.signed_in',
    outcome: 'SUCCESS',
    actorType: 'USER',
    actorId: 'user-1',
    actor: null,
    targetType: null,
    targetId: null,
    ip: '203.0.113.7',
    userAgent: null,
    sessionId: null,
    details: {},
    ...overrides,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
const seqs = (buffer: FeedBuffer) => buffer.newestFirst().map((e) => e.seq);

describe('FeedBuffer', () => {
  test('starts from a page of history in any order, newest first, resuming after its newest seq', () => {
    const buffer = new FeedBuffer(10);
    buffer.reset([event(7), event(5), event(6), event(6)]);
    expect(seqs(buffer)).toEqual([7, 6, 5]);
    expect(buffer.lastSeq).toBe(7);
  });

  test('an empty history resumes after the head seq it was read at', () => {
    const buffer = new FeedBuffer(10);
    buffer.reset([], 42);
    expect(buffer.lastSeq).toBe(42);
    expect(buffer.add(event(43))).toBe('added');
  });

  test('takes the next seq and drops anything already seen', () => {
    const buffer = new FeedBuffer(10);
    buffer.reset(range(1, 3));
    expect(buffer.add(event(4))).toBe('added');
    expect(buffer.add(event(4))).toBe('duplicate');
    expect(buffer.add(event(2))).toBe('duplicate');
    expect(seqs(buffer)).toEqual([4, 3, 2, 1]);
  });

  test('refuses an event past a gap, so lastSeq never skips one', () => {
    const buffer = new FeedBuffer(10);
    buffer.reset(range(1, 3));
    expect(buffer.add(event(6))).toBe('gap');
    expect(buffer.lastSeq).toBe(3);
    expect(seqs(buffer)).toEqual([3, 2, 1]);
  });

  test('a reconnect that replays from lastSeq, overlapping what arrived, ends with no gap and no duplicate', () => {
    const buffer = new FeedBuffer(100);
    buffer.reset(range(1, 10));
    for (const e of range(11, 15)) buffer.add(e);
    const resumeFrom = buffer.lastSeq;
    expect(resumeFrom).toBe(15);
    // At-least-once: the server may resend the last events before the replay proper.
    const replay = [...range(13, 15), ...range(resumeFrom + 1, 20)];
    const results = replay.map((e) => buffer.add(e));
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(3);
    expect(results.filter((r) => r === 'gap')).toHaveLength(0);
    expect(seqs(buffer)).toEqual(range(1, 20).map((e) => e.seq).reverse());
  });

  test('events lost while disconnected are filled in by the replay, in order', () => {
    const buffer = new FeedBuffer(100);
    buffer.reset(range(1, 5));
    // 6 and 7 were committed while the socket was down; the first live event after reconnecting is 8.
    expect(buffer.add(event(8))).toBe('gap');
    for (const e of range(buffer.lastSeq + 1, 8)) expect(buffer.add(e)).toBe('added');
    expect(seqs(buffer)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  test('keeps at most `capacity` events, the newest, and still knows what it has seen', () => {
    const buffer = new FeedBuffer(3);
    buffer.reset(range(1, 5));
    expect(seqs(buffer)).toEqual([5, 4, 3]);
    buffer.add(event(6));
    expect(seqs(buffer)).toEqual([6, 5, 4]);
    expect(buffer.size).toBe(3);
    expect(buffer.add(event(2))).toBe('duplicate');
    expect(seqs(buffer)).toEqual([6, 5, 4]);
  });

  test('of a filtered stream: seqs the filter skipped are no gap, and duplicates are still dropped', () => {
    const buffer = new FeedBuffer(10, 0, true);
    buffer.reset([event(3), event(9)]);
    expect(buffer.lastSeq).toBe(9);
    expect(buffer.add(event(14))).toBe('added');
    expect(buffer.add(event(14))).toBe('duplicate');
    expect(buffer.add(event(12))).toBe('duplicate');
    expect(buffer.add(event(20))).toBe('added');
    expect(seqs(buffer)).toEqual([20, 14, 9, 3]);
  });

  test('refuses a capacity that is not a positive integer', () => {
    expect(() => new FeedBuffer(0)).toThrow(RangeError);
  });
});

describe('matchesFilter', () => {
  const failed = event(1, { action: 'session.sign_in_failed', outcome: 'FAILURE', actorId: null, ip: '198.51.100.2' });

  test('an empty filter matches everything', () => {
    expect(matchesFilter(failed, {})).toBe(true);
  });

  test('each field must match exactly, like the server search', () => {
    expect(matchesFilter(failed, { actions: ['session.sign_in_failed', 'session.locked_out'] })).toBe(true);
    expect(matchesFilter(failed, { actions: ['session.signed_in'] })).toBe(false);
    expect(matchesFilter(failed, { outcome: 'FAILURE' })).toBe(true);
    expect(matchesFilter(failed, { outcome: 'SUCCESS' })).toBe(false);
    expect(matchesFilter(failed, { ip: '198.51.100.2' })).toBe(true);
    expect(matchesFilter(failed, { ip: '198.51.100' })).toBe(false);
    expect(matchesFilter(event(2), { actorId: 'user-1' })).toBe(true);
    expect(matchesFilter(failed, { actorId: 'user-1' })).toBe(false);
  });
});

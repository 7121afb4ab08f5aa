import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { auditTopic } from '../../server/src/audit/feed.ts';
import { signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { collect, liveClient } from '../support/live.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Redis channels are global: each run gets its own prefix.
const PREFIX = `vigil-test-${randomBytes(4).toString('hex')}`;
let a: TestVigil;
let b: TestVigil;
let redis: Redis;

beforeAll(async () => {
  const env = { REDIS_URL, REDIS_CHANNEL_PREFIX: PREFIX };
  a = await startVigil({ env });
  b = await startVigil({ env, shareWith: a });
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await b?.stop();
  await a?.stop();
});

/** Redis drops what is published before the SUBSCRIBE is active: wait until the channel has a subscriber. */
async function subscribed(channel: string) {
  await waitFor(async () => {
    const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    return Number(count) > 0;
  });
}

test('an event committed on one instance reaches a subscriber on the other, through Redis', async () => {
  const owner = await signUpTenant(a.client());
  const live = liveClient(b.url, { token: owner.token });
  const feed = collect<{ auditEvents: { seq: number; action: string } }>(live, 'subscription { auditEvents(filter: { actions: ["test.marker"] }) { seq action } }');
  await subscribed(`${PREFIX}:${auditTopic(owner.tenantId)}`);
  await writeEvents(a, owner.tenantId, 20);
  const items = await feed.until((all) => all.length === 20);
  const seqs = items.map((i) => i.auditEvents.seq);
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  await live.dispose();
});

test('a session revoked on one instance closes its socket on the other within a second', async () => {
  const owner = await signUpTenant(a.client());
  const live = liveClient(b.url, { token: owner.token });
  collect(live, 'subscription { auditEvents { seq } }');
  await waitFor(() => b.liveSockets.size > 0);
  await subscribed(`${PREFIX}:access-signals`);
  const admin = a.client();
  admin.bearer = owner.token;
  await admin.ok('mutation { revokeAllSessions }');
  const started = Date.now();
  await waitFor(() => live.closes.length > 0, 2_000);
  expect(live.closes[0].code).toBe(4403);
  expect(Date.now() - started).toBeLessThan(1_000);
});

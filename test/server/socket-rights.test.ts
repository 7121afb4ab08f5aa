import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GraphQLClient } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { collect, liveClient } from '../support/live.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

/**
 * An open WebSocket has the rights of its credential now, not those it had when it opened: every
 * operation on it is authorized again, and its open subscriptions end (4403) within 2 s when the
 * credential ends or loses a right, whatever the cause. Never a 4500.
 */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const FEED = 'subscription { auditEvents { seq action } }';
type Owner = Awaited<ReturnType<typeof signUpTenant>>;

async function roleId(owner: GraphQLClient, name: string): Promise<string> {
  const roles = (await owner.ok('{ roles { id name } }')).roles as Array<{ id: string; name: string }>;
  return roles.find((r) => r.name === name)!.id;
}

/** A live socket with an open journal feed, authenticated with this token or key. */
async function openFeed(owner: Owner, credential: { token: string } | { apiKey: string }) {
  const opened = async () => (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'audit.stream_opened').length;
  const before = await opened();
  const live = liveClient(vigil.url, credential);
  const feed = collect(live, FEED);
  try {
    await waitFor(async () => feed.errors.length > 0 || live.closes.length > 0 || (await opened()) > before, 15_000, 20);
  } catch {
    throw new Error(`the feed did not open: errors ${JSON.stringify(feed.errors)}, closes ${JSON.stringify(live.closes)}`);
  }
  expect({ errors: feed.errors, closes: live.closes }).toEqual({ errors: [], closes: [] });
  return { live, feed };
}

async function expectClosedWithin2s(live: ReturnType<typeof liveClient>, cause: () => Promise<unknown>) {
  await cause();
  const started = Date.now();
  await waitFor(() => live.closes.length > 0, 2_000, 10);
  expect({ code: live.closes[0].code, withinMs: Date.now() - started < 2_000 }).toEqual({ code: 4403, withinMs: true });
}

describe('an Administrator demoted to Employee while their socket is open', () => {
  test('loses the rights on the next operation over the same socket, and the open feed ends within 2 s', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const admin = await inviteEmployee(ownerClient, 'Administrator');
    const live = liveClient(vigil.url, { token: admin.token });
    const before = await live.iterate({ query: '{ users { id } }' }).next();
    expect((before.value as { data: { users: unknown[] } }).data.users.length).toBeGreaterThan(1);

    const feed = collect(live, FEED);
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'), 5_000, 20);
    await ownerClient.ok('mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', { u: admin.userId, r: await roleId(ownerClient, 'Employee') });
    const started = Date.now();
    await waitFor(() => live.closes.length > 0, 2_000, 10);
    expect(live.closes[0].code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(2_000);
    await feed.done;
  });

  test('an operation sent right after the demotion, before any signal, is refused cleanly (never 4500)', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const admin = await inviteEmployee(ownerClient, 'Administrator');
    const live = liveClient(vigil.url, { token: admin.token });
    await live.iterate({ query: '{ viewer { isOwner } }' }).next();
    await ownerClient.ok('mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', { u: admin.userId, r: await roleId(ownerClient, 'Employee') });
    const query = collect(live, '{ users { id } }');
    const mutation = collect(live, 'mutation { createRole(input: { name: "Escalated", permissions: ["users.manage"] }) { id } }');
    await Promise.all([query.done, mutation.done]);
    const codes = [...query.errors, ...mutation.errors].flatMap((e) => (Array.isArray(e) ? e : [e])).map((e) => (e as { extensions?: { code?: string }; code?: number }).extensions?.code ?? (e as { code?: number }).code);
    expect(query.items.filter((i) => (i as { users?: unknown }).users)).toEqual([]);
    expect(mutation.items.filter((i) => (i as { createRole?: unknown }).createRole)).toEqual([]);
    for (const code of codes) expect(['FORBIDDEN', 'UNAUTHENTICATED', 4403]).toContain(code);
    expect(live.closes.map((c) => c.code).filter((c) => c !== 4403)).toEqual([]);
    expect((await ownerClient.ok('{ roles { name } }')).roles.map((r: { name: string }) => r.name)).not.toContain('Escalated');
  });
});

describe('every cause of a credential ending, or losing a right, closes its open feed within 2 s', () => {
  test('sign-out', async () => {
    const owner = await signUpTenant(vigil.client());
    const { live } = await openFeed(owner, { token: owner.token });
    await expectClosedWithin2s(live, () => bearerClient(vigil, owner.token).ok('mutation { signOut }'));
  });

  test('revocation by another session', async () => {
    const owner = await signUpTenant(vigil.client());
    const second = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn;
    const { live } = await openFeed(owner, { token: second.token });
    await expectClosedWithin2s(live, () => bearerClient(vigil, owner.token).ok('mutation($id: ID!) { revokeSession(id: $id) { id } }', { id: second.session.id }));
  });

  test('the user disabled', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const officer = await inviteEmployee(ownerClient, 'Security officer');
    const { live } = await openFeed(owner, { token: officer.token });
    await expectClosedWithin2s(live, () => ownerClient.ok('mutation($id: ID!) { disableUser(userId: $id) { id } }', { id: officer.userId }));
  });

  test('a password change (other sessions end)', async () => {
    const owner = await signUpTenant(vigil.client());
    const second = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn;
    const { live } = await openFeed(owner, { token: second.token });
    await expectClosedWithin2s(live, () =>
      bearerClient(vigil, owner.token).ok('mutation($i: ChangePasswordInput!) { changePassword(input: $i) { sessionsEnded } }', {
        i: { currentPassword: STRONG_PASSWORD, newPassword: 'an entirely new passphrase' },
      }),
    );
  });

  test("the owner's reset of the employee's password", async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const officer = await inviteEmployee(ownerClient, 'Security officer');
    const { live } = await openFeed(owner, { token: officer.token });
    await expectClosedWithin2s(live, () => ownerClient.ok('mutation($u: ID!) { resetUserPassword(userId: $u) { token } }', { u: officer.userId }));
  });

  test('a demotion', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const officer = await inviteEmployee(ownerClient, 'Security officer');
    const { live } = await openFeed(owner, { token: officer.token });
    const employee = await roleId(ownerClient, 'Employee');
    await expectClosedWithin2s(live, () => ownerClient.ok('mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', { u: officer.userId, r: employee }));
  });

  test("an API key's revocation", async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const key = (await ownerClient.ok('mutation { createApiKey(input: { name: "feed", permissions: ["audit.read"] }) { key { id } secret } }')).createApiKey;
    const { live } = await openFeed(owner, { apiKey: key.secret });
    await expectClosedWithin2s(live, () => ownerClient.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.key.id }));
  });

  test("the demotion of an API key's creator", async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const officer = await inviteEmployee(ownerClient, 'Security officer');
    const officerClient = bearerClient(vigil, officer.token);
    const key = (await officerClient.ok('mutation { createApiKey(input: { name: "feed", permissions: ["audit.read"] }) { key { id } secret } }')).createApiKey;
    const { live } = await openFeed(owner, { apiKey: key.secret });
    const employee = await roleId(ownerClient, 'Employee');
    await expectClosedWithin2s(live, () => ownerClient.ok('mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', { u: officer.userId, r: employee }));
  });

  test('absolute expiry, with the clock moved (the socket keeps the session from idling, not from its end)', async () => {
    const owner = await signUpTenant(vigil.client());
    const { live } = await openFeed(owner, { token: owner.token });
    // Keep the session active over HTTP (every 25 minutes, within the 30-minute idle timeout) up to
    // 11 h 40 min; then step past its 12 h.
    const session = bearerClient(vigil, owner.token);
    for (let minutes = 25; minutes <= 700; minutes += 25) {
      vigil.clock.advance(25 * 60);
      expect((await session.request('{ viewer { isOwner } }')).data).toEqual({ viewer: { isOwner: true } });
    }
    expect(live.closes).toEqual([]);
    await expectClosedWithin2s(live, async () => vigil.clock.advance(25 * 60));
    expect((await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'session.expired')).toBe(true);
  }, 60_000);
});

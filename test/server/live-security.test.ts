import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { closeOf, collect, liveClient } from '../support/live.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const FEED = 'subscription { auditEvents { seq action } }';
const PROTOCOL = 'graphql-transport-ws';

function rawSocket(headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${vigil.url.replace('http', 'ws')}/graphql`, PROTOCOL, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const send = (ws: WebSocket, message: unknown) => ws.send(JSON.stringify(message));

async function employeeWith(owner: Awaited<ReturnType<typeof signUpTenant>>, roleName: string) {
  const admin = vigil.client();
  admin.bearer = owner.token;
  const roles = (await admin.ok('{ roles { id name } }')).roles as Array<{ id: string; name: string }>;
  const roleId = roles.find((r) => r.name === roleName)!.id;
  const email = `${roleName.replace(/\W/g, '').toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@acme.test`;
  const invitation = await admin.ok(`mutation($e: String!, $r: ID!) { inviteUser(email: $e, roleId: $r) { token } }`, { e: email, r: roleId });
  const employee = vigil.client();
  const accepted = await employee.ok(
    `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { token user { id } } }`,
    { i: { token: invitation.inviteUser.token, password: 'correct horse battery staple', displayName: roleName } },
  );
  return { token: accepted.acceptInvitation.token as string, userId: accepted.acceptInvitation.user.id as string, admin, roles };
}

describe('the WebSocket handshake', () => {
  test('an Origin outside the allowlist is refused before the upgrade', async () => {
    const owner = await signUpTenant(vigil.client());
    const ws = new WebSocket(`${vigil.url.replace('http', 'ws')}/graphql`, PROTOCOL, {
      headers: { origin: 'https://evil.example', cookie: `vigil_session=${owner.token}` },
    });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });

  test("the server's own origin with the session cookie is accepted", async () => {
    const owner = await signUpTenant(vigil.client());
    const live = liveClient(vigil.url, { cookie: `vigil_session=${owner.token}`, origin: vigil.url });
    const feed = collect(live, FEED);
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    await writeEvents(vigil, owner.tenantId, 1);
    await feed.until((items) => items.some((i: any) => i.auditEvents.action === 'test.marker'));
    await live.dispose();
  });

  test('a cookie without an Origin (not a browser) does not authenticate', async () => {
    const owner = await signUpTenant(vigil.client());
    const ws = await rawSocket({ cookie: `vigil_session=${owner.token}` });
    send(ws, { type: 'connection_init' });
    expect((await closeOf(ws)).code).toBe(4403);
  });
});

describe('graphql-ws close codes', () => {
  test('no credential: 4403 and never an ack', async () => {
    const ws = await rawSocket();
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(String(m)));
    send(ws, { type: 'connection_init', payload: { authorization: 'Bearer nonsense' } });
    expect((await closeOf(ws)).code).toBe(4403);
    expect(messages).toEqual([]);
  });

  test('subscribe before the ack: 4401', async () => {
    const ws = await rawSocket();
    send(ws, { id: '1', type: 'subscribe', payload: { query: FEED } });
    expect((await closeOf(ws)).code).toBe(4401);
  });

  test('silence after opening: 4408', async () => {
    const ws = await rawSocket();
    expect((await closeOf(ws, 6_000)).code).toBe(4408);
  });

  test('a second connection_init: 4429; a duplicate id: 4409; an invalid message: 4400', async () => {
    const owner = await signUpTenant(vigil.client());
    const init = { type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } };
    const twice = await rawSocket();
    send(twice, init);
    send(twice, init);
    expect((await closeOf(twice)).code).toBe(4429);

    const duplicate = await rawSocket();
    send(duplicate, init);
    await new Promise((resolve) => duplicate.once('message', resolve));
    send(duplicate, { id: 'a', type: 'subscribe', payload: { query: FEED } });
    send(duplicate, { id: 'a', type: 'subscribe', payload: { query: FEED } });
    expect((await closeOf(duplicate)).code).toBe(4409);

    const garbage = await rawSocket();
    garbage.send('{not json');
    expect((await closeOf(garbage)).code).toBe(4400);
  });
});

describe('access that goes away closes the socket within a second', () => {
  test('a revoked session', async () => {
    const owner = await signUpTenant(vigil.client());
    const ws = await rawSocket();
    send(ws, { type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } });
    await new Promise((resolve) => ws.once('message', resolve));
    send(ws, { id: '1', type: 'subscribe', payload: { query: FEED } });
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const closing = closeOf(ws, 3_000);
    const other = vigil.client();
    other.bearer = owner.token;
    const started = Date.now();
    await other.ok(`mutation($id: ID!) { revokeSession(id: $id) { id } }`, { id: owner.sessionId });
    const closed = await closing;
    expect(closed.code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('a session that passes its idle timeout, with the clock moved', async () => {
    const owner = await signUpTenant(vigil.client());
    const ws = await rawSocket();
    send(ws, { type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } });
    await new Promise((resolve) => ws.once('message', resolve));
    const closing = closeOf(ws, 3_000);
    vigil.clock.advance(31 * 60);
    expect((await closing).afterMs).toBeLessThan(1_000);
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'session.expired'));
  });

  test('a permission removed from the role', async () => {
    const owner = await signUpTenant(vigil.client());
    const officer = await employeeWith(owner, 'Security officer');
    const live = liveClient(vigil.url, { token: officer.token });
    const feed = collect(live, FEED);
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const role = officer.roles.find((r) => r.name === 'Security officer')!;
    await officer.admin.ok(`mutation($id: ID!) { updateRole(id: $id, input: { permissions: ["sessions.read_all"] }) { id } }`, { id: role.id });
    const started = Date.now();
    await waitFor(() => live.closes.length > 0, 2_000);
    expect(live.closes[0].code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    await feed.done;
  });

  test('a revoked API key', async () => {
    const owner = await signUpTenant(vigil.client());
    const admin = vigil.client();
    admin.bearer = owner.token;
    const created = await admin.ok(`mutation { createApiKey(input: { name: "feed", permissions: ["sessions.read_all"] }) { key { id } secret } }`);
    const live = liveClient(vigil.url, { apiKey: created.createApiKey.secret });
    const events = collect(live, 'subscription { sessionEvents { kind sessionId } }');
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const started = Date.now();
    await admin.ok(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.createApiKey.key.id });
    await waitFor(() => live.closes.length > 0, 2_000);
    expect(live.closes[0].code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    await events.done;
  });
});

describe('who receives what', () => {
  test("tenant A never receives tenant B's events", async () => {
    const a = await signUpTenant(vigil.client());
    const b = await signUpTenant(vigil.client());
    const liveA = liveClient(vigil.url, { token: a.token });
    const feedA = collect<{ auditEvents: { seq: number; action: string } }>(liveA, 'subscription { auditEvents(afterSeq: 0) { seq action details } }');
    await writeEvents(vigil, b.tenantId, 5, 'test.tenant_b');
    await writeEvents(vigil, a.tenantId, 1, 'test.tenant_a_done');
    await feedA.until((items) => items.some((i) => i.auditEvents.action === 'test.tenant_a_done'));
    expect(feedA.items.filter((i) => i.auditEvents.action === 'test.tenant_b')).toEqual([]);
    await liveA.dispose();
  });

  test('an employee without audit.read cannot open the feed', async () => {
    const owner = await signUpTenant(vigil.client());
    const employee = await employeeWith(owner, 'Employee');
    const live = liveClient(vigil.url, { token: employee.token });
    const feed = collect(live, FEED);
    await feed.done;
    expect((feed.errors[0] as any)[0]?.extensions?.code ?? (feed.errors[0] as any).extensions?.code).toBe('FORBIDDEN');
    expect(feed.items).toEqual([]);
    await live.dispose();
  });

  test('sessionEvents delivers the lifecycle of sessions to an integrator holding an API key', async () => {
    const owner = await signUpTenant(vigil.client());
    const admin = vigil.client();
    admin.bearer = owner.token;
    const key = (await admin.ok(`mutation { createApiKey(input: { name: "siem", permissions: ["sessions.read_all"] }) { secret } }`)).createApiKey.secret;
    const live = liveClient(vigil.url, { apiKey: key });
    const events = collect<{ sessionEvents: { kind: string; sessionId: string; userId: string } }>(live, 'subscription { sessionEvents { kind sessionId userId seq } }');
    await waitFor(async () => (await auditRows(vigil, owner.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const browser = vigil.client();
    const signedIn = await browser.ok(`mutation { signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "correct horse battery staple" }) { session { id } } }`);
    const sessionId = signedIn.signIn.session.id;
    await admin.ok(`mutation($id: ID!) { revokeSession(id: $id) { id } }`, { id: sessionId });
    const items = await events.until((all) => all.some((e) => e.sessionEvents.kind === 'REVOKED'));
    expect(items.filter((e) => e.sessionEvents.sessionId === sessionId).map((e) => e.sessionEvents.kind)).toEqual(['CREATED', 'REVOKED']);
    expect(items.every((e) => e.sessionEvents.userId === owner.userId)).toBe(true);
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'audit.stream_opened').at(-1)?.details).toMatchObject({ stream: 'session' });
    await live.dispose();
  });
});

describe('subscriptions over HTTP', () => {
  test('are refused, as JSON or as server-sent events: only a WebSocket is closed when access goes away', async () => {
    const owner = await signUpTenant(vigil.client());
    for (const accept of ['application/json', 'text/event-stream']) {
      const response = await fetch(`${vigil.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ query: FEED }),
      });
      const text = await response.text();
      expect(text).toContain('BAD_USER_INPUT');
      expect(text).toContain('over WebSocket');
      expect(text).not.toContain('"seq"');
    }
    const rows = await auditRows(vigil, owner.tenantId);
    expect(rows.some((r) => r.action === 'audit.stream_opened')).toBe(false);
  });
});

describe('keep-alive', () => {
  test('a peer that stops answering pings is dropped; one that answers stays', async () => {
    const quick = await startVigil({ env: { WS_KEEPALIVE_SECONDS: '1' } });
    try {
      const owner = await signUpTenant(quick.client());
      const open = (autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${quick.url.replace('http', 'ws')}/graphql`, PROTOCOL, { autoPong });
          ws.once('error', reject);
          ws.once('open', () => send(ws, { type: 'connection_init', payload: { authorization: `Bearer ${owner.token}` } }));
          ws.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve(ws));
        });
      const silent = await open(false);
      const answering = await open(true);
      const dropped = closeOf(silent, 5_000);
      expect((await dropped).code).toBe(1006);
      expect(answering.readyState).toBe(WebSocket.OPEN);
      answering.close();
    } finally {
      await quick.stop();
    }
  });
});


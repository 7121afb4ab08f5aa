import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, VIEWER_ID, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const actions = async (tenantId: string) => (await auditRows(vigil, tenantId)).map((r) => r.action);

describe('lifetimes', () => {
  test('idle timeout: 30 minutes without a request ends the session, and it is journalled', async () => {
    const owner = await signUpTenant(vigil.client());
    const app = bearerClient(vigil, owner.token);
    vigil.clock.advance(29 * 60);
    expect((await app.ok(VIEWER_ID)).viewer).not.toBeNull();
    vigil.clock.advance(29 * 60);
    expect((await app.ok(VIEWER_ID)).viewer).not.toBeNull();
    vigil.clock.advance(30 * 60 + 1);
    expect((await app.ok(VIEWER_ID)).viewer).toBeNull();
    expect(await actions(owner.tenantId)).toContain('session.expired');
  });

  test('absolute timeout: 12 hours end the session however active it is', async () => {
    const owner = await signUpTenant(vigil.client());
    const app = bearerClient(vigil, owner.token);
    for (let elapsed = 0; elapsed < 12 * 60 * 60 - 20 * 60; elapsed += 20 * 60) {
      vigil.clock.advance(20 * 60);
      expect((await app.ok(VIEWER_ID)).viewer?.session.id).toBe(owner.sessionId);
    }
    vigil.clock.advance(20 * 60 + 1);
    expect((await app.ok(VIEWER_ID)).viewer).toBeNull();
    const expired = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0].target_id).toBe(owner.sessionId);
  });

  test('the owner sets lifetimes within bounds, and a shorter absolute timeout applies to open sessions', async () => {
    const owner = await signUpTenant(vigil.client());
    const app = bearerClient(vigil, owner.token);
    const update = 'mutation($i: SessionPolicyInput!) { updateSessionPolicy(input: $i) { sessionPolicy { idleTimeoutSeconds absoluteTimeoutSeconds } } }';
    expect(errorCode(await app.request(update, { i: { idleTimeoutSeconds: 60 } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await app.request(update, { i: { absoluteTimeoutSeconds: 7 * 24 * 3600 } }))).toBe('BAD_USER_INPUT');
    const ok = await app.ok(update, { i: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 } });
    expect(ok.updateSessionPolicy.sessionPolicy).toEqual({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 });
    vigil.clock.advance(9 * 60);
    expect((await app.ok(VIEWER_ID)).viewer).not.toBeNull();
    vigil.clock.advance(9 * 60);
    expect((await app.ok(VIEWER_ID)).viewer).not.toBeNull();
    vigil.clock.advance(45 * 60);
    expect((await app.ok(VIEWER_ID)).viewer).toBeNull();
    expect(await actions(owner.tenantId)).toContain('tenant.session_policy_updated');
  });

  test('an employee cannot change the session policy', async () => {
    const owner = await signUpTenant(vigil.client());
    const employee = await inviteEmployee(bearerClient(vigil, owner.token), 'Employee');
    const result = await employee.client.request('mutation { updateSessionPolicy(input: { idleTimeoutSeconds: 3600 }) { id } }');
    expect(errorCode(result)).toBe('FORBIDDEN');
  });
});

describe('rotation', () => {
  test('after the interval a request gets a new token; the old one works through the grace window only', async () => {
    const owner = await signUpTenant(vigil.client());
    const app = bearerClient(vigil, owner.token);
    vigil.clock.advance(301);
    const rotated = await app.request(VIEWER_ID);
    const newToken = rotated.headers.get('vigil-session-token')!;
    expect(newToken).toMatch(new RegExp(`^${owner.sessionId}\\.`));
    expect(newToken).not.toBe(owner.token);
    expect(app.bearer).toBe(newToken);
    const stale = bearerClient(vigil, owner.token);
    vigil.clock.advance(20);
    const inGrace = await stale.request(VIEWER_ID);
    expect(inGrace.data?.viewer?.session.id).toBe(owner.sessionId);
    expect(inGrace.headers.get('vigil-session-token')).toBeNull();
    expect(await actions(owner.tenantId)).toContain('session.rotated');
  });

  test('a cookie is rotated with a new Set-Cookie', async () => {
    const browser = vigil.client();
    const owner = await signUpTenant(browser);
    vigil.clock.advance(301);
    const response = await browser.request(VIEWER_ID);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('vigil_session='))!;
    expect(cookie).toBeDefined();
    expect(cookie).not.toContain(owner.token);
    expect(browser.cookies.get('vigil_session')).not.toBe(owner.token);
  });

  test('reuse of a rotated-away token after the grace window revokes the whole session', async () => {
    const owner = await signUpTenant(vigil.client());
    const user = bearerClient(vigil, owner.token);
    vigil.clock.advance(301);
    await user.ok(VIEWER_ID);
    const thief = bearerClient(vigil, owner.token);
    vigil.clock.advance(31);
    expect((await thief.ok(VIEWER_ID)).viewer).toBeNull();
    // The legitimate holder's newer token is dead too: the session is gone.
    expect((await user.ok(VIEWER_ID)).viewer).toBeNull();
    const reuse = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.token_reuse_detected');
    expect(reuse).toHaveLength(1);
    expect(reuse[0]).toMatchObject({ target_id: owner.sessionId, outcome: 'denied' });
  });

  test('a token from two rotations ago is reuse as well', async () => {
    const owner = await signUpTenant(vigil.client());
    const user = bearerClient(vigil, owner.token);
    for (let i = 0; i < 2; i++) {
      vigil.clock.advance(301);
      await user.ok(VIEWER_ID);
    }
    expect((await bearerClient(vigil, owner.token).ok(VIEWER_ID)).viewer).toBeNull();
    expect((await user.ok(VIEWER_ID)).viewer).toBeNull();
    expect(await actions(owner.tenantId)).toContain('session.token_reuse_detected');
  });

  test('fixation is impossible: signing in never adopts a token the client already had', async () => {
    const owner = await signUpTenant(vigil.client());
    const planted = vigil.client();
    planted.cookies.set('vigil_session', `${owner.sessionId}.${'A'.repeat(43)}`);
    const result = await signIn(planted, { tenantSlug: owner.slug, email: owner.email });
    const issued = result.data!.signIn;
    expect(issued.session.id).not.toBe(owner.sessionId);
    expect(planted.cookies.get('vigil_session')).toBe(issued.token);
    expect((await bearerClient(vigil, `${owner.sessionId}.${'A'.repeat(43)}`).ok(VIEWER_ID)).viewer).toBeNull();
    // A victim signing in with an attacker's valid session cookie gets a fresh session too.
    const attacker = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    const victim = vigil.client();
    victim.cookies.set('vigil_session', attacker.data!.signIn.token);
    const victimSignIn = await signIn(victim, { tenantSlug: owner.slug, email: owner.email });
    expect(victimSignIn.data!.signIn.session.id).not.toBe(attacker.data!.signIn.session.id);
  });
});

describe('listing and ending sessions', () => {
  test('viewer.sessions lists mine with device, address and which one is current', async () => {
    const owner = await signUpTenant(vigil.client());
    const phone = vigil.client();
    phone.extraHeaders['user-agent'] = 'Mozilla/5.0 (iPhone)';
    await signIn(phone, { tenantSlug: owner.slug, email: owner.email });
    const list = (await phone.ok('{ viewer { sessions { id createdAt lastSeenAt ip userAgent current } } }')).viewer.sessions;
    expect(list).toHaveLength(2);
    expect(list.filter((s: any) => s.current)).toHaveLength(1);
    expect(list.find((s: any) => s.current)).toMatchObject({ userAgent: 'Mozilla/5.0 (iPhone)', ip: '127.0.0.1' });
  });

  test('end one, end the others, end all', async () => {
    const owner = await signUpTenant(vigil.client());
    const clients = [bearerClient(vigil, owner.token)];
    for (let i = 0; i < 3; i++) clients.push(bearerClient(vigil, (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token));
    const ids = await Promise.all(clients.map(async (c) => (await c.ok(VIEWER_ID)).viewer.session.id as string));
    await clients[0].ok('mutation($id: ID!) { revokeSession(id: $id) { id active } }', { id: ids[1] });
    expect((await clients[1].ok(VIEWER_ID)).viewer).toBeNull();
    expect(await clients[0].ok('mutation { revokeOtherSessions }')).toEqual({ revokeOtherSessions: 2 });
    expect((await clients[2].ok(VIEWER_ID)).viewer).toBeNull();
    expect((await clients[3].ok(VIEWER_ID)).viewer).toBeNull();
    expect((await clients[0].ok(VIEWER_ID)).viewer.session.id).toBe(ids[0]);
    expect(await clients[0].ok('mutation { revokeAllSessions }')).toEqual({ revokeAllSessions: 1 });
    expect((await clients[0].ok(VIEWER_ID)).viewer).toBeNull();
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.revoked')).toHaveLength(4);
  });

  test("a security officer lists and ends an employee's sessions; an employee may not", async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const officer = await inviteEmployee(ownerClient, 'Security officer');
    const employee = await inviteEmployee(ownerClient, 'Employee');
    const listed = await officer.client.ok('query($u: ID!) { userSessions(userId: $u) { id } }', { u: employee.userId });
    expect(listed.userSessions.map((s: any) => s.id)).toEqual([employee.sessionId]);
    expect(errorCode(await employee.client.request('query($u: ID!) { userSessions(userId: $u) { id } }', { u: officer.userId }))).toBe('FORBIDDEN');
    expect(errorCode(await employee.client.request('mutation($u: ID!) { revokeUserSessions(userId: $u) }', { u: officer.userId }))).toBe('FORBIDDEN');
    expect(errorCode(await employee.client.request('mutation($id: ID!) { revokeSession(id: $id) { id } }', { id: officer.sessionId }))).toBe('NOT_FOUND');
    expect((await officer.client.ok(VIEWER_ID)).viewer).not.toBeNull();
    expect(await officer.client.ok('mutation($u: ID!) { revokeUserSessions(userId: $u) }', { u: employee.userId })).toEqual({ revokeUserSessions: 1 });
    expect((await employee.client.ok(VIEWER_ID)).viewer).toBeNull();
  });
});

describe('changing the password', () => {
  const CHANGE = 'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token sessionsEnded } }';

  test('needs the current password, ends the other sessions, rotates this one', async () => {
    const owner = await signUpTenant(vigil.client());
    const here = bearerClient(vigil, owner.token);
    const elsewhere = bearerClient(vigil, (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token);
    expect(errorCode(await here.request(CHANGE, { i: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' } }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await here.request(CHANGE, { i: { currentPassword: STRONG_PASSWORD, newPassword: 'short' } }))).toBe('BAD_USER_INPUT');
    const changed = (await here.ok(CHANGE, { i: { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' } })).changePassword;
    expect(changed.sessionsEnded).toBe(1);
    expect(changed.token).not.toBe(owner.token);
    expect((await elsewhere.ok(VIEWER_ID)).viewer).toBeNull();
    expect((await bearerClient(vigil, changed.token).ok(VIEWER_ID)).viewer.session.id).toBe(owner.sessionId);
    expect(errorCode(await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email }))).toBe('INVALID_CREDENTIALS');
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'a brand new passphrase' })).errors).toBeUndefined();
    const row = (await auditRows(vigil, owner.tenantId)).find((r) => r.action === 'user.password_changed')!;
    expect(row.details).toEqual({ sessionsEnded: 1 });
    expect(JSON.stringify(await auditRows(vigil, owner.tenantId))).not.toContain('brand new passphrase');
  });

  test('an API key cannot change the password', async () => {
    const owner = await signUpTenant(vigil.client());
    const key = (await bearerClient(vigil, owner.token).ok('mutation { createApiKey(input: { name: "k", permissions: [] }) { secret } }')).createApiKey.secret;
    const result = await bearerClient(vigil, key).request(CHANGE, { i: { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase' } });
    expect(errorCode(result)).toBe('FORBIDDEN');
  });
});

describe('sign-in history', () => {
  test('shows successes and failures with time, address, agent and outcome; others only with the permission', async () => {
    const owner = await signUpTenant(vigil.client());
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'wrong password!' });
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    const ownerClient = bearerClient(vigil, owner.token);
    const HISTORY = 'query($u: ID) { signInHistory(userId: $u) { edges { node { action outcome occurredAt ip userAgent } } } }';
    const history = (await ownerClient.ok(HISTORY)).signInHistory.edges.map((e: any) => e.node);
    expect(history.map((h: any) => [h.action, h.outcome])).toEqual([
      ['session.signed_in', 'SUCCESS'],
      ['session.sign_in_failed', 'FAILURE'],
      ['session.signed_in', 'SUCCESS'],
    ]);
    expect(history[0]).toMatchObject({ ip: '127.0.0.1', userAgent: 'node' });
    const employee = await inviteEmployee(ownerClient, 'Employee');
    expect(errorCode(await employee.client.request(HISTORY, { u: owner.userId }))).toBe('FORBIDDEN');
    expect((await ownerClient.ok(HISTORY, { u: employee.userId })).signInHistory.edges).toHaveLength(1);
  });
});

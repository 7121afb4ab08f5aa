import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { closeOf } from '../support/live.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const LOCKDOWN = `mutation($i: LockdownInput!) { lockDown(input: $i) {
  scope userIds keysRevoked resetsVoided journalFromSeq journalToSeq
  sessionsEnded { id userId userAgent ip lastSeenAt } signIns { action outcome ip occurredAt } } }`;
const STEP_UP = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';
const CREATE_KEY = 'mutation { createApiKey(input: { name: "sync", permissions: [] }) { secret } }';

async function liveSessions(tenantId: string): Promise<number> {
  return asOwner(vigil, async (q) => (await q<{ n: number }>('select count(*)::int as n from session where tenant_id = $1 and ended_at is null', [tenantId]))[0].n);
}
async function usableKeys(tenantId: string): Promise<number> {
  return asOwner(vigil, async (q) => (await q<{ n: number }>('select count(*)::int as n from api_key where tenant_id = $1 and revoked_at is null', [tenantId]))[0].n);
}

describe('lockDown', () => {
  test('SELF: needs a fresh proof; ends every other session, revokes the keys, and reports what it ended and the sign-ins', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    const key = (await client.ok(CREATE_KEY)).createApiKey.secret;
    const elsewhere = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token;
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'a wrong guess of it' });
    vigil.clock.advance(301);
    const input = { scope: 'SELF', keepCurrentSession: true, reason: 'My laptop was stolen.' };
    expect(errorCode(await client.request(LOCKDOWN, { i: input }))).toBe('STEP_UP_REQUIRED');
    await client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    const report = (await client.ok(LOCKDOWN, { i: input })).lockDown;
    expect(report.sessionsEnded).toHaveLength(1);
    expect(report.sessionsEnded[0]).toMatchObject({ userId: owner.userId, ip: '127.0.0.1' });
    expect(report.keysRevoked).toBe(1);
    expect(report.signIns.map((s: { outcome: string }) => s.outcome)).toEqual(expect.arrayContaining(['SUCCESS', 'FAILURE']));
    expect(report.journalToSeq).toBeGreaterThan(report.journalFromSeq);
    expect(await liveSessions(owner.tenantId)).toBe(1); // the one kept
    expect(await usableKeys(owner.tenantId)).toBe(0);
    expect((await bearerClient(vigil, elsewhere).ok('{ viewer { user { id } } }')).viewer).toBeNull();
    const withKey = vigil.client();
    withKey.bearer = key;
    expect(errorCode(await withKey.request('{ users { id } }'))).toBe('UNAUTHENTICATED');

    const again = (await client.ok(LOCKDOWN, { i: input })).lockDown;
    expect(again.sessionsEnded).toEqual([]);
    expect(again.keysRevoked).toBe(0);
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'incident.lockdown')).toHaveLength(2);
  });

  test('after it, the right password earns no session but a token to set a new one; then signing in works again', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    await client.ok(LOCKDOWN, { i: { scope: 'SELF', reason: 'Someone knows my password.' } });
    expect((await client.ok('{ viewer { user { id } } }')).viewer).toBeNull();
    const refused = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    expect(errorCode(refused)).toBe('PASSWORD_CHANGE_REQUIRED');
    expect(await liveSessions(owner.tenantId)).toBe(0);
    const token = refused.errors![0].extensions!.resetToken;
    await vigil.client().ok('mutation($i: CompletePasswordResetInput!) { completePasswordReset(input: $i) { token } }', {
      i: { token, newPassword: 'a brand new horse battery staple' },
    });
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'a brand new horse battery staple' })).errors).toBeUndefined();
  });

  test('USER: an administrator locks an employee down (users.manage, no step-up); an employee cannot; the owner cannot be targeted', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    const admin = await inviteEmployee(client, 'Administrator');
    const employee = await inviteEmployee(client, 'Employee');
    await employee.client.ok(CREATE_KEY);
    const input = { scope: 'USER', userId: employee.userId, reason: 'Phishing click reported.' };
    expect(errorCode(await employee.client.request(LOCKDOWN, { i: { ...input, userId: admin.userId } }))).toBe('FORBIDDEN');
    expect(errorCode(await admin.client.request(LOCKDOWN, { i: { scope: 'USER', reason: 'No one named.' } }))).toBe('BAD_USER_INPUT');
    vigil.clock.advance(301);
    const report = (await admin.client.ok(LOCKDOWN, { i: input })).lockDown;
    expect(report.userIds).toEqual([employee.userId]);
    expect(report.sessionsEnded.map((s: { userId: string }) => s.userId)).toEqual([employee.userId]);
    expect(report.keysRevoked).toBe(1);
    expect((await employee.client.ok('{ viewer { user { id } } }')).viewer).toBeNull();
    expect((await admin.client.ok('{ viewer { user { id } } }')).viewer).not.toBeNull();
    expect(errorCode(await admin.client.request(LOCKDOWN, { i: { ...input, userId: owner.userId } }))).toBe('FORBIDDEN');
  });

  test('TENANT: the owner only, with a fresh proof; zero sessions and usable keys remain, and open sockets close within a second', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    const admin = await inviteEmployee(client, 'Administrator');
    await admin.client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    const key = (await admin.client.ok('mutation { createApiKey(input: { name: "feed", permissions: ["audit.read"] }) { secret } }')).createApiKey.secret;
    await client.ok(CREATE_KEY);
    expect(errorCode(await admin.client.request(LOCKDOWN, { i: { scope: 'TENANT', reason: 'Breach suspected.' } }))).toBe('FORBIDDEN');

    const ws = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: key } }));
    await new Promise((resolve) => ws.once('message', resolve));
    const closing = closeOf(ws, 3_000);
    const started = Date.now();
    const report = (await client.ok(LOCKDOWN, { i: { scope: 'TENANT', reason: 'Breach suspected.' } })).lockDown;
    expect((await closing).code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.userIds).toHaveLength(2);
    expect(report.keysRevoked).toBe(2);
    expect(await liveSessions(owner.tenantId)).toBe(0);
    expect(await usableKeys(owner.tenantId)).toBe(0);
    const events = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'incident.lockdown');
    expect(events).toHaveLength(1);
    expect(events[0].details).toMatchObject({ scope: 'tenant', users: 2, keysRevoked: 2 });
    expect(JSON.stringify(events)).not.toContain(key);
  });
});

import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STEP_UP_MAX_AGE_SECONDS } from '../../server/src/access/viewer.ts';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, inviteEmployee, signUpTenant } from '../support/factories.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const CREATE_KEY = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id } secret } }';
const STEP_UP = 'mutation($i: StepUpInput!) { stepUp(input: $i) { provedAt validUntil } }';
const pastTheProof = () => vigil.clock.advance(STEP_UP_MAX_AGE_SECONDS + 1);

async function keyCount(tenantId: string): Promise<number> {
  return asOwner(vigil, async (q) => (await q<{ n: number }>('select count(*)::int as n from api_key where tenant_id = $1', [tenantId]))[0].n);
}

async function owner() {
  const signedUp = await signUpTenant(vigil.client());
  return { ...signedUp, client: bearerClient(vigil, signedUp.token) };
}

describe('a sensitive operation asks for a fresh proof, and the same request then succeeds', () => {
  test('the sign-in is a proof for five minutes; after that STEP_UP_REQUIRED, nothing written, and stepUp lets the same request through', async () => {
    const { client, tenantId } = await owner();
    await client.ok(CREATE_KEY, { i: { name: 'right after sign-up', permissions: [] } });
    expect(await keyCount(tenantId)).toBe(1);

    pastTheProof();
    const refused = await client.request(CREATE_KEY, { i: { name: 'later', permissions: [] } });
    expect(errorCode(refused)).toBe('STEP_UP_REQUIRED');
    expect(refused.errors![0].extensions!.maxAgeSeconds).toBe(STEP_UP_MAX_AGE_SECONDS);
    expect(refused.data).toBeNull();
    expect(await keyCount(tenantId)).toBe(1);

    const proved = (await client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } })).stepUp;
    expect(new Date(proved.validUntil).getTime() - new Date(proved.provedAt).getTime()).toBe(STEP_UP_MAX_AGE_SECONDS * 1000);
    await client.ok(CREATE_KEY, { i: { name: 'later', permissions: [] } });
    expect(await keyCount(tenantId)).toBe(2);

    const steps = (await auditRows(vigil, tenantId)).filter((row) => row.action === 'session.stepped_up');
    expect(steps).toHaveLength(1);
    expect(JSON.stringify(steps)).not.toContain(STRONG_PASSWORD);
  });

  test('a wrong password proves nothing, is journalled as a failed attempt, and counts toward the lock', async () => {
    const { client, tenantId } = await owner();
    pastTheProof();
    expect(errorCode(await client.request(STEP_UP, { i: { password: 'not my password at all' } }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await client.request(CREATE_KEY, { i: { name: 'x', permissions: [] } }))).toBe('STEP_UP_REQUIRED');
    const failures = (await auditRows(vigil, tenantId)).filter((row) => row.action === 'session.sign_in_failed');
    expect(failures.map((row) => row.details.reason)).toEqual(['wrong_current_password']);
    expect((await auditRows(vigil, tenantId)).filter((row) => row.action === 'session.stepped_up')).toHaveLength(0);
  });

  test('the proof belongs to one session: stepping up in another leaves this one stale', async () => {
    const first = await owner();
    const other = bearerClient(vigil, (await vigil.client().ok(`mutation($i: SignInInput!) { signIn(input: $i) { token } }`, { i: { tenantSlug: first.slug, email: first.email, password: STRONG_PASSWORD } })).signIn.token);
    pastTheProof();
    await other.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    await other.ok(CREATE_KEY, { i: { name: 'other', permissions: [] } });
    expect(errorCode(await first.client.request(CREATE_KEY, { i: { name: 'first', permissions: [] } }))).toBe('STEP_UP_REQUIRED');
  });

  test('the proof lasts five minutes across token rotations, then expires again', async () => {
    const { client } = await owner();
    pastTheProof();
    await client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    vigil.clock.advance(STEP_UP_MAX_AGE_SECONDS - 10);
    await client.ok('{ viewer { user { id } } }'); // may rotate the token: the proof stays with the session
    await client.ok(CREATE_KEY, { i: { name: 'inside', permissions: [] } });
    vigil.clock.advance(11);
    expect(errorCode(await client.request(CREATE_KEY, { i: { name: 'outside', permissions: [] } }))).toBe('STEP_UP_REQUIRED');
  });
});

describe('who is asked, and who is refused', () => {
  test('a caller without the right gets FORBIDDEN, not an invitation to step up', async () => {
    const { client } = await owner();
    const employee = await inviteEmployee(client, 'Employee');
    pastTheProof();
    const refused = await employee.client.request('mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', { u: employee.userId, r: employee.roleId });
    expect(errorCode(refused)).toBe('FORBIDDEN');
  });

  test('an API key holding the permission is refused FORBIDDEN: no person stands behind it to prove anything', async () => {
    const { client } = await owner();
    const secret = (await client.ok(CREATE_KEY, { i: { name: 'auditor', permissions: ['audit.export'] } })).createApiKey.secret;
    const key = vigil.client();
    key.bearer = secret;
    const refused = await key.request('mutation { exportAuditEvents(format: CSV) { url } }');
    expect(errorCode(refused)).toBe('FORBIDDEN');
    await client.ok('mutation { exportAuditEvents(format: CSV) { url } }'); // the owner, freshly signed in, may
  });

  test('with confirmation codes on, stepUp needs the code too, and a code proves once', async () => {
    const { client } = await owner();
    const { secret } = (await client.ok(`mutation { enrollTotp(currentPassword: "${STRONG_PASSWORD}") { secret } }`)).enrollTotp;
    const code = () => generate({ secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });
    await client.ok('mutation($c: String!) { confirmTotp(code: $c) }', { c: await code() });
    pastTheProof();
    expect(errorCode(await client.request(STEP_UP, { i: { password: STRONG_PASSWORD } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await client.request(STEP_UP, { i: { password: STRONG_PASSWORD, totpCode: '000000' } }))).toBe('INVALID_CREDENTIALS');
    vigil.clock.advance(30);
    const fresh = await code();
    await client.ok(STEP_UP, { i: { password: STRONG_PASSWORD, totpCode: fresh } });
    expect(errorCode(await client.request(STEP_UP, { i: { password: STRONG_PASSWORD, totpCode: fresh } }))).toBe('INVALID_CREDENTIALS');
    await client.ok(CREATE_KEY, { i: { name: 'with code', permissions: [] } });
  });
});

describe('every operation the issue names is sensitive', () => {
  async function staleOwnerWithEmployee() {
    const o = await owner();
    const employee = await inviteEmployee(o.client, 'Employee');
    const custom = (await o.client.ok('mutation { createRole(input: { name: "Auditors", permissions: ["audit.read"] }) { id } }')).createRole.id as string;
    pastTheProof();
    return { ...o, employee, custom };
  }

  const SENSITIVE: Array<[string, string, (s: Awaited<ReturnType<typeof staleOwnerWithEmployee>>) => Record<string, unknown>]> = [
    ['createApiKey', CREATE_KEY, () => ({ i: { name: 'k', permissions: [] } })],
    ['setUserRole', 'mutation($u: ID!, $r: ID!) { setUserRole(userId: $u, roleId: $r) { id } }', (s) => ({ u: s.employee.userId, r: s.custom })],
    ['resetUserPassword', 'mutation($u: ID!) { resetUserPassword(userId: $u) { token } }', (s) => ({ u: s.employee.userId })],
    ["updateRole's permissions", 'mutation($r: ID!) { updateRole(id: $r, input: { permissions: ["audit.read", "users.read"] }) { id } }', (s) => ({ r: s.custom })],
    ['exportAuditEvents', 'mutation { exportAuditEvents(format: JSONL) { url } }', () => ({})],
    ['disableTotp', 'mutation { disableTotp }', () => ({})],
  ];

  test.each(SENSITIVE)('%s: STEP_UP_REQUIRED when the proof is stale', async (_name, query, variables) => {
    const setup = await staleOwnerWithEmployee();
    expect(errorCode(await setup.client.request(query, variables(setup)))).toBe('STEP_UP_REQUIRED');
  });

  test("renaming a role grants nothing and asks for no proof; changing what it grants does", async () => {
    const { client, custom } = await staleOwnerWithEmployee();
    await client.ok('mutation($r: ID!) { updateRole(id: $r, input: { name: "Auditors (EU)" }) { id } }', { r: custom });
    expect(errorCode(await client.request('mutation($r: ID!) { updateRole(id: $r, input: { name: "Auditors", permissions: [] }) { id } }', { r: custom }))).toBe('STEP_UP_REQUIRED');
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GraphQLClient, errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, VIEWER_ID, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Issue 18's server parts: changeEmail, as the seeds say of a login change (the current password, the other
 * sessions ended, the API keys rotated without grace, journalled), and sign-up the operator can close.
 */
const CHANGE = 'mutation($i: ChangeEmailInput!) { changeEmail(input: $i) { email token sessionsEnded } }';
let vigil: TestVigil;
let closed: TestVigil;

beforeAll(async () => {
  [vigil, closed] = await Promise.all([startVigil(), startVigil({ env: { SIGN_UP: 'closed' } })]);
}, 60_000);
afterAll(async () => Promise.all([vigil?.stop(), closed?.stop()]));

describe('changeEmail', () => {
  test('needs the current password; ends the other sessions, rotates this one and the API keys without grace; journalled; the new email signs in, the old does not', async () => {
    const owner = await signUpTenant(vigil.client());
    const here = bearerClient(vigil, owner.token);
    const elsewhere = bearerClient(vigil, (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token);
    const { secret, key } = (await here.ok('mutation { createApiKey(input: { name: "crm", permissions: ["audit.read"] }) { secret key { id } } }')).createApiKey;
    expect(errorCode(await here.request(CHANGE, { i: { newEmail: 'new@acme.test', currentPassword: 'not-my-password-1' } }))).toBe('INVALID_CREDENTIALS');
    const changed = (await here.ok(CHANGE, { i: { newEmail: '  New.Owner@Acme.test ', currentPassword: STRONG_PASSWORD } })).changeEmail;
    expect(changed).toMatchObject({ email: 'new.owner@acme.test', sessionsEnded: 1 });
    expect(changed.token).not.toBe(owner.token);
    expect((await here.ok(VIEWER_ID)).viewer.user.id).toBe(owner.userId);
    expect((await elsewhere.ok(VIEWER_ID)).viewer).toBeNull();
    // The old secret stopped at once (no grace); the new one is revealed once.
    expect((await bearerClient(vigil, secret).ok(VIEWER_ID)).viewer).toBeNull();
    const journal = await auditRows(vigil, owner.tenantId);
    expect(journal.find((row) => row.action === 'user.email_changed')).toMatchObject({ target_id: owner.userId, details: { from: owner.email, to: 'new.owner@acme.test', sessionsEnded: 1 } });
    expect(journal.filter((row) => row.action === 'api_key.auto_rotated' || row.action === 'api_key.rotated').map((row) => row.target_id)).toContain(key.id);
    expect(errorCode(await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email }))).toBe('INVALID_CREDENTIALS');
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: 'new.owner@acme.test' })).data?.signIn.token).toEqual(expect.any(String));
  });

  test("another user's email in the company is a CONFLICT; the same email or a bad one is BAD_USER_INPUT", async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    const employee = await inviteEmployee(client, 'Employee', 'colleague@acme.test');
    expect(errorCode(await client.request(CHANGE, { i: { newEmail: employee.email, currentPassword: STRONG_PASSWORD } }))).toBe('CONFLICT');
    expect(errorCode(await client.request(CHANGE, { i: { newEmail: owner.email, currentPassword: STRONG_PASSWORD } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await client.request(CHANGE, { i: { newEmail: 'not an email', currentPassword: STRONG_PASSWORD } }))).toBe('BAD_USER_INPUT');
  });

  test('an API key cannot change the email (it needs a session)', async () => {
    const owner = await signUpTenant(vigil.client());
    const { secret } = (await bearerClient(vigil, owner.token).ok('mutation { createApiKey(input: { name: "k", permissions: [] }) { secret } }')).createApiKey;
    expect(errorCode(await bearerClient(vigil, secret).request(CHANGE, { i: { newEmail: 'x@acme.test', currentPassword: STRONG_PASSWORD } }))).toBe('FORBIDDEN');
  });
});

describe('SIGN_UP=closed', () => {
  test('signUp answers FORBIDDEN and signUpOpen says so; open, it is open', async () => {
    const anonymous = new GraphQLClient(closed.url);
    expect(await anonymous.ok('{ signUpOpen firstRun }')).toEqual({ signUpOpen: false, firstRun: false });
    const refused = await signUpTenant(closed.client()).catch((error: Error) => error);
    expect(String(refused)).toContain('FORBIDDEN');
    expect((await new GraphQLClient(vigil.url).ok('{ signUpOpen }')).signUpOpen).toBe(true);
  });

  test('firstRun holds until the first company signs up', async () => {
    const fresh = await startVigil();
    try {
      const anonymous = new GraphQLClient(fresh.url);
      expect((await anonymous.ok('{ firstRun }')).firstRun).toBe(true);
      await signUpTenant(fresh.client());
      expect((await anonymous.ok('{ firstRun }')).firstRun).toBe(false);
    } finally {
      await fresh.stop();
    }
  }, 60_000);
});

import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { AUTH_FIELDS, STRONG_PASSWORD, VIEWER_ID, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { auditRows, databaseContains } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const RESET = 'mutation($u: ID!) { resetUserPassword(userId: $u) { userId expiresAt token } }';
const COMPLETE = `mutation($i: CompletePasswordResetInput!) { completePasswordReset(input: $i) { ${AUTH_FIELDS} } }`;
const NEW_PASSWORD = 'a brand new passphrase';
const WHO = '{ viewer { user { id } apiKeyId } }';

async function ownerWithEmployee() {
  const owner = await signUpTenant(vigil.client());
  const ownerClient = bearerClient(vigil, owner.token);
  const employee = await inviteEmployee(ownerClient, 'Security officer');
  const key = (await employee.client.ok('mutation { createApiKey(input: { name: "siem", permissions: ["audit.read"] }) { key { id } secret } }')).createApiKey;
  return { owner, ownerClient, employee, keyId: key.key.id as string, keySecret: key.secret as string };
}

describe("the owner resets an employee's password", () => {
  test('the old password, every session and every API key stop at once; the token sets a new password once and signs in', async () => {
    const { owner, ownerClient, employee, keyId, keySecret } = await ownerWithEmployee();
    const reset = (await ownerClient.ok(RESET, { u: employee.userId })).resetUserPassword;
    expect(reset.userId).toBe(employee.userId);
    expect(reset.token).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);

    expect((await employee.client.ok(VIEWER_ID)).viewer).toBeNull();
    expect((await bearerClient(vigil, keySecret).ok(WHO)).viewer).toBeNull();
    expect(errorCode(await signIn(vigil.client(), { tenantSlug: owner.slug, email: employee.email }))).toBe('INVALID_CREDENTIALS');

    const done = (await vigil.client().ok(COMPLETE, { i: { token: reset.token, newPassword: NEW_PASSWORD } })).completePasswordReset;
    expect(done.user.id).toBe(employee.userId);
    expect((await bearerClient(vigil, done.token).ok(VIEWER_ID)).viewer.user.id).toBe(employee.userId);
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: employee.email, password: NEW_PASSWORD })).data?.signIn.user.id).toBe(employee.userId);
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { token: reset.token, newPassword: 'yet another passphrase' } }))).toBe('NOT_FOUND');

    // The rotated key's successor is revealed once, to the employee, as after a password change.
    const keys = (await bearerClient(vigil, done.token).ok('{ apiKeys { id rotatedFromId awaitingReveal } }')).apiKeys;
    expect(keys.find((k: { rotatedFromId: string }) => k.rotatedFromId === keyId)).toMatchObject({ awaitingReveal: true });

    const rows = await auditRows(vigil, owner.tenantId);
    const resetRow = rows.find((r) => r.action === 'user.password_reset');
    expect(resetRow).toMatchObject({ actor_id: owner.userId, target_id: employee.userId, details: { sessionsEnded: 1 } });
    expect(rows.find((r) => r.action === 'user.password_reset_completed')).toMatchObject({ actor_id: employee.userId, target_id: employee.userId });
    expect(rows.filter((r) => r.action === 'api_key.auto_rotated').map((r) => r.details.reason)).toEqual(['password_reset']);
    const secret = reset.token.slice(37);
    expect(await databaseContains(vigil, secret)).toBe(false);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  test('only the owner may reset, never their own password nor through an API key; a refusal changes nothing', async () => {
    const { owner, ownerClient, employee } = await ownerWithEmployee();
    const admin = await inviteEmployee(ownerClient, 'Administrator');
    expect(errorCode(await admin.client.request(RESET, { u: employee.userId }))).toBe('FORBIDDEN');
    expect(errorCode(await ownerClient.request(RESET, { u: owner.userId }))).toBe('FORBIDDEN');
    const ownerKey = (await ownerClient.ok('mutation { createApiKey(input: { name: "ops", permissions: ["users.manage"] }) { secret } }')).createApiKey.secret;
    expect(errorCode(await bearerClient(vigil, ownerKey).request(RESET, { u: employee.userId }))).toBe('FORBIDDEN');

    expect((await employee.client.ok(VIEWER_ID)).viewer.user.id).toBe(employee.userId);
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: employee.email })).data?.signIn.user.id).toBe(employee.userId);
    expect((await auditRows(vigil, owner.tenantId)).map((r) => r.action)).not.toContain('user.password_reset');
  });

  test('a weak password is refused without using the token; a replaced or expired token is NOT_FOUND', async () => {
    const { ownerClient, employee } = await ownerWithEmployee();
    const complete = (token: string, newPassword = NEW_PASSWORD) => vigil.client().request(COMPLETE, { i: { token, newPassword } });
    const first = (await ownerClient.ok(RESET, { u: employee.userId })).resetUserPassword.token;
    const second = (await ownerClient.ok(RESET, { u: employee.userId })).resetUserPassword.token;
    expect(errorCode(await complete(first))).toBe('NOT_FOUND');
    expect(errorCode(await complete(second, 'short'))).toBe('BAD_USER_INPUT');
    expect((await complete(second)).data?.completePasswordReset.user.id).toBe(employee.userId);
    expect(errorCode(await complete('not-a-token'))).toBe('NOT_FOUND');

    const third = (await ownerClient.ok(RESET, { u: employee.userId })).resetUserPassword.token;
    vigil.clock.advance(24 * 60 * 60 + 1);
    expect(errorCode(await complete(third))).toBe('NOT_FOUND');
  });

  test('with TOTP on, completing the reset asks for the confirmation code instead of opening a session', async () => {
    const { owner, ownerClient, employee } = await ownerWithEmployee();
    const enrollment = (await employee.client.ok(`mutation { enrollTotp(currentPassword: "${STRONG_PASSWORD}") { secret } }`)).enrollTotp;
    const codeNow = () => generate({ secret: enrollment.secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });
    await employee.client.ok('mutation($c: String!) { confirmTotp(code: $c) }', { c: await codeNow() });
    const token = (await ownerClient.ok(RESET, { u: employee.userId })).resetUserPassword.token;

    const completed = await vigil.client().request(COMPLETE, { i: { token, newPassword: NEW_PASSWORD } });
    expect(errorCode(completed)).toBe('TOTP_REQUIRED');
    vigil.clock.advance(30);
    const challenge = completed.errors![0].extensions!.challenge as string;
    const signedIn = (await vigil.client().ok('mutation($i: CompleteSignInInput!) { completeSignIn(input: $i) { user { id } } }', { i: { challenge, code: await codeNow() } })).completeSignIn;
    expect(signedIn.user.id).toBe(employee.userId);
    // The new password is set: it signs in (to the next challenge), and the token is used up.
    expect(errorCode(await signIn(vigil.client(), { tenantSlug: owner.slug, email: employee.email, password: NEW_PASSWORD }))).toBe('TOTP_REQUIRED');
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { token, newPassword: 'yet another passphrase' } }))).toBe('NOT_FOUND');
  });
});

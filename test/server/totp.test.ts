import { generate, stringToBytes } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acceptTotp } from '../../server/src/mfa/totp.ts';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, VIEWER_ID, bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { asOwner, auditRows, databaseContains } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const codeAt = (secret: string, date: Date, offsetSteps = 0) => generate({ secret, epoch: Math.floor(date.getTime() / 1000) + offsetSteps * 30 });
const COMPLETE = 'mutation($i: CompleteSignInInput!) { completeSignIn(input: $i) { token session { id authMethod } } }';

describe('RFC 6238', () => {
  // Appendix B, SHA-1 seed: the 6-digit code is the last six digits of the 8-digit vector.
  const seed = Buffer.from('12345678901234567890').toString();
  test.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('at T=%i the code is %s', async (t, vector) => {
    expect(await generate({ secret: stringToBytes(seed), epoch: t, digits: 8 })).toBe(vector);
    const base32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(await acceptTotp(base32, vector.slice(-6), new Date(t * 1000), null)).toBe(Math.floor(t / 30));
  });

  test('one step of drift either side is accepted, two are not', async () => {
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const now = new Date(1_700_000_000_000);
    for (const [offset, accepted] of [[-2, false], [-1, true], [0, true], [1, true], [2, false]] as const) {
      expect((await acceptTotp(secret, await codeAt(secret, now, offset), now, null)) !== null).toBe(accepted);
    }
  });
});

async function enrolled() {
  const owner = await signUpTenant(vigil.client());
  const client = bearerClient(vigil, owner.token);
  expect(errorCode(await client.request('mutation { enrollTotp(currentPassword: "wrong password!") { uri } }'))).toBe('INVALID_CREDENTIALS');
  const enrollment = (await client.ok(`mutation { enrollTotp(currentPassword: "${STRONG_PASSWORD}") { uri qrCodeSvg secret } }`)).enrollTotp;
  expect(enrollment.uri).toMatch(/^otpauth:\/\/totp\/.+\?secret=/);
  expect(enrollment.qrCodeSvg).toMatch(/^<svg/);
  expect(errorCode(await client.request('mutation($c: String!) { confirmTotp(code: $c) }', { c: '000000' }))).toBe('INVALID_CREDENTIALS');
  const recoveryCodes = (await client.ok('mutation($c: String!) { confirmTotp(code: $c) }', { c: await codeAt(enrollment.secret, vigil.clock.now()) })).confirmTotp as string[];
  return { owner, client, secret: enrollment.secret as string, recoveryCodes };
}

describe('confirmation codes at sign-in', () => {
  test('with TOTP on, signIn returns a challenge instead of a session, and completeSignIn finishes it', async () => {
    const { owner, secret, recoveryCodes } = await enrolled();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const before = await asOwner(vigil, async (q) => Number((await q<{ n: number }>('select count(*)::int as n from session where tenant_id = $1', [owner.tenantId]))[0].n));
    const first = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    expect(errorCode(first)).toBe('TOTP_REQUIRED');
    const challenge = first.errors![0].extensions!.challenge as string;
    expect(first.headers.getSetCookie().some((c) => c.startsWith('vigil_session='))).toBe(false);
    const after = await asOwner(vigil, async (q) => Number((await q<{ n: number }>('select count(*)::int as n from session where tenant_id = $1', [owner.tenantId]))[0].n));
    expect(after).toBe(before);
    vigil.clock.advance(30);
    const done = await vigil.client().ok(COMPLETE, { i: { challenge, code: await codeAt(secret, vigil.clock.now()) } });
    expect(done.completeSignIn.session.authMethod).toBe('password+totp');
    expect((await bearerClient(vigil, done.completeSignIn.token).ok(VIEWER_ID)).viewer.user.id).toBe(owner.userId);
    expect(await databaseContains(vigil, secret)).toBe(false);
    expect(JSON.stringify(await auditRows(vigil, owner.tenantId))).not.toContain(recoveryCodes[0]);
  });

  test('a code is accepted once: replaying it, even with a new challenge, fails', async () => {
    const { owner, secret } = await enrolled();
    vigil.clock.advance(30);
    const code = await codeAt(secret, vigil.clock.now());
    const challengeOf = async () => (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge;
    expect((await vigil.client().request(COMPLETE, { i: { challenge: await challengeOf(), code } })).errors).toBeUndefined();
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { challenge: await challengeOf(), code } }))).toBe('INVALID_CREDENTIALS');
  });

  test('a challenge is single use and expires after five minutes', async () => {
    const { owner, secret } = await enrolled();
    const used = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge;
    vigil.clock.advance(30);
    expect((await vigil.client().request(COMPLETE, { i: { challenge: used, code: await codeAt(secret, vigil.clock.now()) } })).errors).toBeUndefined();
    vigil.clock.advance(30);
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { challenge: used, code: await codeAt(secret, vigil.clock.now()) } }))).toBe('INVALID_CREDENTIALS');
    const challenge = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge;
    vigil.clock.advance(301);
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { challenge, code: await codeAt(secret, vigil.clock.now()) } }))).toBe('INVALID_CREDENTIALS');
  });

  test('a recovery code works once', async () => {
    const { owner, recoveryCodes } = await enrolled();
    const challengeOf = async () => (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge;
    const used = await vigil.client().request(COMPLETE, { i: { challenge: await challengeOf(), recoveryCode: recoveryCodes[3].toUpperCase() } });
    expect(used.errors).toBeUndefined();
    expect(errorCode(await vigil.client().request(COMPLETE, { i: { challenge: await challengeOf(), recoveryCode: recoveryCodes[3] } }))).toBe('INVALID_CREDENTIALS');
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'user.recovery_code_used')).toHaveLength(1);
  });

  test('wrong codes count toward the lock', async () => {
    const { owner } = await enrolled();
    const challenge = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge;
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(errorCode(await vigil.client().request(COMPLETE, { i: { challenge, code: `00000${i}` } })));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.details.reason === 'invalid_code')).toHaveLength(3);
  });

  test('disabling needs a fresh proof with a code, and then sign-in needs the password only', async () => {
    const { owner, client, secret } = await enrolled();
    vigil.clock.advance(301);
    expect(errorCode(await client.request('mutation { disableTotp }'))).toBe('STEP_UP_REQUIRED');
    const stepUp = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';
    expect(errorCode(await client.request(stepUp, { i: { password: STRONG_PASSWORD, totpCode: '123456' } }))).toBe('INVALID_CREDENTIALS');
    await client.ok(stepUp, { i: { password: STRONG_PASSWORD, totpCode: await codeAt(secret, vigil.clock.now()) } });
    expect(await client.ok('mutation { disableTotp }')).toEqual({ disableTotp: true });
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors).toBeUndefined();
    const actions = (await auditRows(vigil, owner.tenantId)).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['user.totp_enrollment_started', 'user.totp_enabled', 'session.stepped_up', 'user.totp_disabled']));
  });

  test('who lost the authenticator steps up with a recovery code, which is then used up', async () => {
    const { client, recoveryCodes } = await enrolled();
    vigil.clock.advance(301);
    const stepUp = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';
    await client.ok(stepUp, { i: { password: STRONG_PASSWORD, recoveryCode: recoveryCodes[0] } });
    expect(await client.ok('mutation { disableTotp }')).toEqual({ disableTotp: true });
  });

  test('a recovery code proves once', async () => {
    const { client, recoveryCodes } = await enrolled();
    vigil.clock.advance(301);
    const stepUp = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';
    await client.ok(stepUp, { i: { password: STRONG_PASSWORD, recoveryCode: recoveryCodes[1] } });
    expect(errorCode(await client.request(stepUp, { i: { password: STRONG_PASSWORD, recoveryCode: recoveryCodes[1] } }))).toBe('INVALID_CREDENTIALS');
  });
});

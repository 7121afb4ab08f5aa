import type { SessionViewer } from '../access/viewer.ts';
import type { Context } from '../context.ts';
import { ErrorCode, clientError, conflict } from '../errors.ts';
import { RecoveryCode } from './recovery-code.entity.ts';
import { SignInAttempt } from '../sessions/sign-in-attempt.ts';
import { asViewer } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { consumeRecoveryCode, isUnusedRecoveryCode, replaceRecoveryCodes } from './recovery-codes.ts';
import { acceptTotp, newTotpSecret, totpEnrollment } from './totp.ts';

const wrongCode = () => clientError(ErrorCode.INVALID_CREDENTIALS, 'The code is wrong or was already used.');

/**
 * Starts TOTP enrolment. Changing a factor needs the password again (ASVS 7.5.1), so a stolen session
 * alone cannot put the account under an attacker's authenticator.
 */
export async function enrollTotp(ctx: Context, viewer: SessionViewer, currentPassword: string) {
  const { services } = ctx;
  const user = viewer.user;
  if (user.totpEnabledAt) throw conflict('Confirmation codes are already on; turn them off first.');
  await verifyPassword(ctx, viewer, currentPassword);
  const secret = newTotpSecret();
  await asViewer(ctx, async ({ em, journal }, totpSecretEnc) => {
    await em.nativeUpdate(User, { id: user.id }, { totpSecretEnc, totpLastStep: null });
    await journal.record({ action: 'user.totp_enrollment_started', target: { type: 'user', id: user.id } });
  }, services.keys.encrypt(secret));
  return { secret, ...(await totpEnrollment(secret, `Vigil (${viewer.tenant.name})`, user.email)) };
}

/** Activates TOTP with a first valid code; returns ten single-use recovery codes, shown once. */
export async function confirmTotp(ctx: Context, viewer: SessionViewer, code: string): Promise<string[]> {
  const { services } = ctx;
  const user = await services.db.forTenant(viewer.tenantId).findOneOrFail(User, viewer.user.id);
  if (user.totpEnabledAt) throw conflict('Confirmation codes are already on.');
  if (!user.totpSecretEnc) throw conflict('Start with enrollTotp.');
  const now = services.clock.now();
  const step = await acceptTotp(services.keys.decrypt(user.totpSecretEnc), code, now, null);
  if (step === null) throw wrongCode();
  return asViewer(ctx, async (work, totpLastStep) => {
    await work.em.nativeUpdate(User, { id: user.id }, { totpEnabledAt: work.now, totpLastStep });
    const codes = await replaceRecoveryCodes(work.em, user, work.now);
    await work.journal.record({ action: 'user.totp_enabled', target: { type: 'user', id: user.id } });
    return codes;
  }, step);
}

/** Turns TOTP off with a current code or a recovery code; the secret and the recovery codes are deleted. */
export async function disableTotp(ctx: Context, viewer: SessionViewer, code: { code?: string | null; recoveryCode?: string | null }) {
  const { services } = ctx;
  const em = services.db.forTenant(viewer.tenantId);
  const user = await em.findOneOrFail(User, viewer.user.id);
  if (!user.totpEnabledAt || !user.totpSecretEnc) throw conflict('Confirmation codes are not on.');
  const now = services.clock.now();
  const attempt = await SignInAttempt.begin(services, viewer.tenantId, ctx.meta, { slug: viewer.tenant.slug, email: user.email }, { byCookie: null });
  const step = code.code ? await acceptTotp(services.keys.decrypt(user.totpSecretEnc), code.code, now, user.totpLastStep ?? null) : null;
  const recoveryValid = code.recoveryCode ? await isUnusedRecoveryCode(em, user, code.recoveryCode) : false;
  if (step === null && !recoveryValid) {
    await attempt.fail(user, { email: user.email, reason: 'invalid_code' });
    throw wrongCode();
  }
  await attempt.succeed();
  await asViewer(ctx, async (work, recoveryCode) => {
    if (step === null && !(await consumeRecoveryCode(work.em, user, recoveryCode!, work.now))) throw wrongCode();
    await work.em.nativeUpdate(User, { id: user.id }, { totpSecretEnc: null, totpEnabledAt: null, totpLastStep: null });
    await work.em.nativeDelete(RecoveryCode, { user: user.id });
    await work.journal.record({ action: 'user.totp_disabled', target: { type: 'user', id: user.id } });
  }, code.recoveryCode);
}

async function verifyPassword(ctx: Context, viewer: SessionViewer, password: string): Promise<void> {
  const { services } = ctx;
  const attempt = await SignInAttempt.begin(services, viewer.tenantId, ctx.meta, { slug: viewer.tenant.slug, email: viewer.user.email }, { byCookie: null });
  const { passwordHash } = await services.db.forTenant(viewer.tenantId).findOneOrFail(User, viewer.user.id, { fields: ['passwordHash'] });
  if (!(await services.hasher.verify(passwordHash, password))) {
    throw await attempt.fail(viewer.user, { email: viewer.user.email, reason: 'wrong_current_password' });
  }
  await attempt.succeed();
}

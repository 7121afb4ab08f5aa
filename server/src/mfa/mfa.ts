import type { SessionViewer } from '../access/viewer.ts';
import { type Context, sessionViewerOf } from '../context.ts';
import { ErrorCode, clientError, conflict } from '../errors.ts';
import { RecoveryCode } from './recovery-code.entity.ts';
import { proveUser } from '../sessions/step-up.ts';
import { type ViewerWork, asViewer } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { replaceRecoveryCodes } from './recovery-codes.ts';
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
  await proveUser(ctx, viewer, { password: currentPassword, withSecondFactor: false });
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

/**
 * Turns TOTP off; the secret and the recovery codes are deleted. Its field asks for a fresh proof, which
 * for a user with codes on holds the code (or a recovery code): asking for another here would make the
 * user wait out a step, since the proof claimed the current one.
 */
export async function disableTotp(work: ViewerWork): Promise<void> {
  const { user } = sessionViewerOf(work);
  if (!user.totpEnabledAt) throw conflict('Confirmation codes are not on.');
  await work.em.nativeUpdate(User, { id: user.id }, { totpSecretEnc: null, totpEnabledAt: null, totpLastStep: null });
  await work.em.nativeDelete(RecoveryCode, { user: user.id });
  await work.journal.record({ action: 'user.totp_disabled', target: { type: 'user', id: user.id } });
}

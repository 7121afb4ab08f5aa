import { z } from 'zod';
import { STEP_UP_MAX_AGE_SECONDS, type SessionViewer } from '../access/viewer.ts';
import { type Context, sessionViewerOf } from '../context.ts';
import { ErrorCode, badInput, clientError } from '../errors.ts';
import { consumeRecoveryCode, isUnusedRecoveryCode } from '../mfa/recovery-codes.ts';
import { acceptTotp, claimTotpStep } from '../mfa/totp.ts';
import { type ViewerWork, asViewer } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { fields, parseInput } from '../validation.ts';
import { Session } from './session.entity.ts';
import { SignInAttempt } from './sign-in-attempt.ts';

const StepUpSchema = z.object({
  password: fields.password,
  totpCode: z.string().trim().max(16, 'Use the six digits of your authenticator app.').nullish(),
  recoveryCode: z.string().trim().max(64, 'This is not a recovery code.').nullish(),
});

export interface SteppedUp {
  provedAt: Date;
  /** Sensitive operations are open to this session until then. */
  validUntil: Date;
}

const wrongCode = () => clientError(ErrorCode.INVALID_CREDENTIALS, 'The code is wrong or was already used.');

/**
 * Proves the signed-in user again, for this session: the password, and a confirmation code when they
 * have them on. A stolen cookie alone then cannot do what `sensitive(…)` fields guard; each wrong guess
 * counts toward the sign-in lock, like a sign-in's.
 */
export async function stepUp(ctx: Context, input: unknown): Promise<SteppedUp> {
  const viewer = sessionViewerOf(ctx);
  const proof = parseInput(StepUpSchema, input);
  const second = await proveUser(ctx, viewer, { ...proof, withSecondFactor: true });
  return asViewer(ctx, recordStepUp, second);
}

/** What proved the second factor, to be claimed in the writing transaction: a code's step, or a recovery code. */
export type SecondFactor = { totpStep: number | null; recoveryCode: string | null };
const NO_SECOND_FACTOR: SecondFactor = { totpStep: null, recoveryCode: null };

/**
 * Checks the caller's password (and, withSecondFactor, their confirmation code or a recovery code when
 * TOTP is on) as one attempt against the sign-in throttle. The second factor is claimed by the writing
 * transaction (claimSecondFactor), so that a code or recovery code proves once.
 */
export async function proveUser(
  ctx: Context,
  viewer: SessionViewer,
  proof: { password: string; totpCode?: string | null; recoveryCode?: string | null; withSecondFactor: boolean },
): Promise<SecondFactor> {
  const { services } = ctx;
  const em = services.db.forTenant(viewer.tenantId);
  const user = await em.findOneOrFail(User, viewer.user.id, { fields: ['email', 'passwordHash', 'totpEnabledAt', 'totpSecretEnc', 'totpLastStep'] });
  const needsCode = proof.withSecondFactor && user.totpEnabledAt !== null && user.totpSecretEnc !== null;
  if (needsCode && !proof.totpCode && !proof.recoveryCode) throw badInput([{ field: 'totpCode', message: 'Enter the code from your authenticator app, or a recovery code.' }]);
  const attempt = await SignInAttempt.begin(services, viewer.tenantId, ctx.meta, { slug: viewer.tenant.slug, email: user.email }, { byCookie: null });
  if (!(await services.hasher.verify(user.passwordHash, proof.password))) {
    throw await attempt.fail(viewer.user, { email: user.email, reason: 'wrong_current_password' });
  }
  if (!needsCode) {
    await attempt.succeed();
    return NO_SECOND_FACTOR;
  }
  const totpStep = proof.totpCode ? await acceptTotp(services.keys.decrypt(user.totpSecretEnc!), proof.totpCode, services.clock.now(), user.totpLastStep ?? null) : null;
  const recoveryCode = totpStep === null && proof.recoveryCode && (await isUnusedRecoveryCode(em, user, proof.recoveryCode)) ? proof.recoveryCode : null;
  if (totpStep === null && recoveryCode === null) {
    await attempt.fail(viewer.user, { email: user.email, reason: 'invalid_code' });
    throw wrongCode();
  }
  await attempt.succeed();
  return { totpStep, recoveryCode };
}

async function claimSecondFactor(work: ViewerWork, { totpStep, recoveryCode }: SecondFactor): Promise<void> {
  const { user } = sessionViewerOf(work);
  if (totpStep !== null && !(await claimTotpStep(work.em, User, user.id, totpStep))) throw wrongCode();
  if (recoveryCode !== null) {
    if (!(await consumeRecoveryCode(work.em, user, recoveryCode, work.now))) throw wrongCode();
    await work.journal.record({ action: 'user.recovery_code_used', target: { type: 'user', id: user.id } });
  }
}

async function recordStepUp(work: ViewerWork, second: SecondFactor): Promise<SteppedUp> {
  const viewer = sessionViewerOf(work);
  await claimSecondFactor(work, second);
  const { totpStep, recoveryCode } = second;
  const proved = await work.em.nativeUpdate(Session, { id: viewer.session.id, endedAt: null }, { steppedUpAt: work.now });
  if (proved !== 1) throw clientError(ErrorCode.UNAUTHENTICATED);
  await work.journal.record({
    action: 'session.stepped_up',
    target: { type: 'session', id: viewer.session.id },
    details: { method: totpStep !== null ? 'password+totp' : recoveryCode !== null ? 'password+recovery_code' : 'password' },
  });
  return { provedAt: work.now, validUntil: new Date(work.now.getTime() + STEP_UP_MAX_AGE_SECONDS * 1000) };
}

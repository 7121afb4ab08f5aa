import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type RequestMeta, signInOrigin } from '../context.ts';
import { ErrorCode, clientError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { SignedIn } from '../sessions/sessions.ts';
import { recognizeDevice } from '../sessions/known-devices.ts';
import { SignInAttempt, completeSignIn } from '../sessions/sign-in-attempt.ts';
import { formatIdSecret, hashSecret, newSecret, parseIdSecret, sameHash } from '../tokens.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { consumeRecoveryCode, isUnusedRecoveryCode } from './recovery-codes.ts';
import { SignInChallenge } from './sign-in-challenge.entity.ts';
import { acceptTotp, claimTotpStep } from './totp.ts';
import { User } from '../users/user.entity.ts';

export const CHALLENGE_LIFETIME_SECONDS = 5 * 60;

/** After a correct password, when TOTP is on: a single-use proof that the first factor passed. */
export async function issueSignInChallenge(services: Services, meta: RequestMeta, tenantId: string, user: { id: string }) {
  const id = randomUUID();
  const secret = newSecret();
  const now = services.clock.now();
  const expiresAt = new Date(now.getTime() + CHALLENGE_LIFETIME_SECONDS * 1000);
  await inTenantTransaction(services, { tenantId, origin: signInOrigin(meta, user.id), viewer: null }, async ({ em, journal }) => {
    em.create(SignInChallenge, { id, tenant: tenantId, user: user.id, secretHash: hashSecret(secret), createdAt: now, expiresAt, usedAt: null });
    await em.flush();
    await journal.record({ action: 'session.totp_challenged', target: { type: 'user', id: user.id } });
  });
  return { token: formatIdSecret({ id, secret }), expiresAt };
}

const CompleteSchema = z
  .object({
    challenge: z.string().min(1, 'The challenge is missing.').max(200),
    code: z.string().trim().max(20).optional().nullable(),
    recoveryCode: z.string().trim().max(64).optional().nullable(),
  })
  .refine((input) => Boolean(input.code) !== Boolean(input.recoveryCode), {
    path: ['code'],
    message: 'Give either a confirmation code or a recovery code.',
  });

const invalid = () => clientError(ErrorCode.INVALID_CREDENTIALS, 'The challenge or the code is wrong or expired.');

/**
 * Second step of a TOTP sign-in. A code is accepted once (the step is remembered), a recovery code
 * once (it is consumed), and every wrong code counts toward the lock like a wrong password.
 */
export async function completeTotpSignIn(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const { challenge: token, code, recoveryCode } = parseInput(CompleteSchema, input);
  const presented = parseIdSecret(token);
  const tenantId = presented ? await services.locators.tenantOfChallenge(presented.id) : null;
  if (!presented || !tenantId) throw invalid();
  const em = services.db.forTenant(tenantId);
  const challenge = await em.findOne(SignInChallenge, presented.id, { populate: ['user.role', 'user.tenant'] });
  const now = services.clock.now();
  if (!challenge || challenge.usedAt || now >= challenge.expiresAt || !sameHash(hashSecret(presented.secret), challenge.secretHash)) {
    throw invalid();
  }
  const user = challenge.user;
  const device = await recognizeDevice(em, user.id, meta);
  const attempt = await SignInAttempt.begin(services, tenantId, meta, { slug: user.tenant.slug, email: user.email }, device);

  const secret = user.totpSecretEnc ? services.keys.decrypt(user.totpSecretEnc) : null;
  const step = code && secret ? await acceptTotp(secret, code, now, user.totpLastStep ?? null) : null;
  const recoveryValid = recoveryCode ? await isUnusedRecoveryCode(em, user, recoveryCode) : false;
  if (step === null && !recoveryValid) {
    throw await attempt.fail(user, { email: user.email, reason: 'invalid_code' });
  }
  const issued = await completeSignIn(services, meta, {
    user,
    tenant: user.tenant,
    device,
    authMethod: 'password+totp',
    attempt,
    em,
    extra: async (work) => {
      // Conditional writes: of two requests racing with the same challenge or code, one wins.
      const used = await work.em.nativeUpdate(SignInChallenge, { id: challenge.id, usedAt: null }, { usedAt: now });
      if (used !== 1) throw invalid();
      if (step !== null) {
        if (!(await claimTotpStep(work.em, User, user.id, step))) throw invalid();
      } else {
        if (!(await consumeRecoveryCode(work.em, user, recoveryCode!, now))) throw invalid();
        await work.journal.record({ action: 'user.recovery_code_used', target: { type: 'user', id: user.id } });
      }
    },
  });
  return { ...issued, user, tenant: user.tenant };
}

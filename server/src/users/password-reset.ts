import { z } from 'zod';
import { rotateKeysOfUser } from '../api-keys/api-keys.ts';
import { type Context, type RequestMeta, signInOrigin, viewerOf } from '../context.ts';
import { ErrorCode, badInput, clientError, forbidden } from '../errors.ts';
import type { Services } from '../services.ts';
import { endSessions } from '../sessions/sessions.ts';
import type { SignedIn } from '../sessions/sessions.ts';
import { requireSecondFactor } from '../sessions/sign-in.ts';
import { completeSignIn } from '../sessions/sign-in-attempt.ts';
import { hashSecret, newSecret, parseIdSecret, sameHash } from '../tokens.ts';
import { type ViewerWork, type Work, asViewer, inTenantTransaction } from '../unit-of-work.ts';
import { fields, parseInput } from '../validation.ts';
import { manageableUser } from './employees.ts';
import { PasswordReset } from './password-reset.entity.ts';
import { issuePasswordReset } from './password-reset-token.ts';
import { passwordProblems } from './password-policy.ts';
import { User } from './user.entity.ts';


/**
 * The owner resets an employee's password: the old one stops working, every session of theirs ends and
 * every API key of theirs is rotated without grace (the seeds: keys change with the password), and a
 * one-time token is returned for the owner to pass on. Only the owner: whoever holds the token can take
 * the account over, so this is not delegated with `users.manage`.
 */
export async function resetUserPassword(ctx: Pick<Context, 'services' | 'meta' | 'viewer'>, userId: string): Promise<{ reset: PasswordReset; token: string }> {
  if (!viewerOf(ctx).isOwner) throw forbidden("Only the company's owner resets an employee's password.");
  // A password nobody knows, until the employee sets theirs; hashed before the transaction holds a connection.
  const unusableHash = await ctx.services.hasher.hash(newSecret());
  return asViewer(ctx, replacePassword, { userId, unusableHash });
}

async function replacePassword(work: ViewerWork, { userId, unusableHash }: { userId: string; unusableHash: string }) {
  const { viewer, now } = work;
  const user = await manageableUser(work, userId);
  await work.em.nativeUpdate(User, { id: user.id }, { passwordHash: unusableHash, passwordChangedAt: now });
  const { reset, token } = await issuePasswordReset(work, viewer.tenantId, user.id, viewer.user.id);
  const ended = await endSessions(work, { userId: user.id }, 'password_changed');
  await work.journal.record({
    action: 'user.password_reset',
    target: { type: 'user', id: user.id },
    details: { email: user.email, sessionsEnded: ended.length, expiresAt: reset.expiresAt.toISOString() },
  });
  await rotateKeysOfUser(work, user.id, 'password_reset');
  work.signal({ userIds: [user.id] });
  return { reset, token };
}

const CompleteSchema = z.object({ token: z.string().max(200), newPassword: fields.password });

const invalidReset = () => clientError(ErrorCode.NOT_FOUND, 'This password reset does not exist, was used, or expired.');

/**
 * The employee sets a new password with the owner's token and is signed in (with TOTP on, they get the
 * sign-in challenge instead, as with signIn: a reset does not skip the second factor).
 */
export async function completePasswordReset(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const data = parseInput(CompleteSchema, input);
  const presented = parseIdSecret(data.token);
  const tenantId = presented ? await services.locators.tenantOfPasswordReset(presented.id) : null;
  if (!presented || !tenantId) throw invalidReset();
  const em = services.db.forTenant(tenantId);
  const reset = await em.findOne(PasswordReset, presented.id, { populate: ['user', 'user.role', 'tenant'] });
  const now = services.clock.now();
  const valid = reset && !reset.usedAt && !reset.revokedAt && now < reset.expiresAt && !reset.user.disabledAt;
  if (!valid || !sameHash(hashSecret(presented.secret), reset.secretHash)) throw invalidReset();
  const problems = passwordProblems(data.newPassword, 'newPassword');
  if (problems.length) throw badInput(problems);
  const passwordHash = await services.hasher.hash(data.newPassword);
  const { user, tenant } = reset;
  const setPassword = async (work: Work) => {
    const claimed = await work.em.nativeUpdate(PasswordReset, { id: reset.id, usedAt: null, revokedAt: null }, { usedAt: now });
    if (claimed !== 1) throw invalidReset();
    await work.em.nativeUpdate(User, { id: user.id }, { passwordHash, passwordChangedAt: now, passwordChangeRequired: false });
    await work.journal.record({ action: 'user.password_reset_completed', actor: { type: 'user', id: user.id }, target: { type: 'user', id: user.id }, details: { resetId: reset.id } });
  };
  if (user.totpEnabledAt) {
    await inTenantTransaction(services, { tenantId: tenant.id, origin: signInOrigin(meta, user.id), viewer: null, em }, setPassword);
    await requireSecondFactor(services, meta, tenant.id, user); // throws TOTP_REQUIRED with the challenge
  }
  const issued = await completeSignIn(services, meta, { user, tenant, device: { byCookie: null }, authMethod: 'password', em, extra: setPassword });
  return { ...issued, user, tenant };
}

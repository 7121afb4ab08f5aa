import { z } from 'zod';
import type { RequestMeta } from '../context.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { issueSignInChallenge } from '../mfa/challenges.ts';
import type { Services } from '../services.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';
import { fields, parseInput } from '../validation.ts';
import { type Recognition, recognizeDevice } from './known-devices.ts';
import type { IssuedSession } from './sessions.ts';
import { SignInAttempt, completeSignIn } from './sign-in-attempt.ts';

// Deliberately loose: a malformed slug or email is simply one that does not exist.
const SignInSchema = z.object({
  tenantSlug: z.string().trim().toLowerCase().min(1, 'Enter the company address.').max(63, 'Use at most 63 characters.'),
  email: z.string().trim().toLowerCase().min(1, 'Enter your email.').max(254, 'Use at most 254 characters.'),
  password: fields.password,
});

export interface SignedIn extends IssuedSession {
  user: User;
  tenant: Tenant;
  deviceToken: string | null;
}

const UNKNOWN_DEVICE: Recognition = { byCookie: null, byAddress: false };

/**
 * Password sign-in. Unknown tenant, unknown email, disabled user and wrong password all fail the same
 * way after the same work (a dummy hash is verified); with TOTP on, a challenge replaces the session.
 */
export async function signIn(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const { tenantSlug, email, password } = parseInput(SignInSchema, input);
  const tenantId = await services.locators.tenantBySlug(tenantSlug);
  // An unknown tenant's failures go to the platform journal, through the very same steps.
  const scopeId = tenantId ?? PLATFORM_TENANT_ID;
  const em = services.db.forTenant(scopeId);
  const user = await em.findOne(User, { email }, { populate: ['role', 'tenant'] });
  const device = user ? await recognizeDevice(em, user, meta) : UNKNOWN_DEVICE;
  const attempt = await SignInAttempt.begin(services, scopeId, meta, `${tenantSlug}/${email}`, device);

  const passwordMatches = await services.hasher.verify(user?.passwordHash ?? null, password);
  if (!user || !passwordMatches || user.disabledAt) {
    const reason = !tenantId ? 'unknown_tenant' : !user ? 'unknown_email' : !passwordMatches ? 'wrong_password' : 'user_disabled';
    throw await attempt.fail(user, { email, reason, ...(tenantId ? {} : { tenantSlug }) });
  }
  await attempt.succeed();
  await rehashIfOutdated(services, user, password);

  if (user.totpEnabledAt) {
    const challenge = await issueSignInChallenge(services, meta, user);
    throw clientError(ErrorCode.TOTP_REQUIRED, undefined, { challenge: challenge.token, expiresAt: challenge.expiresAt.toISOString() });
  }
  const issued = await completeSignIn(services, meta, { user, tenant: user.tenant, device, authMethod: 'password', em });
  return { ...issued, user, tenant: user.tenant };
}

/** argon2 parameters only ever go up: a hash made with older ones is replaced while we hold the password. */
async function rehashIfOutdated(services: Services, user: User, password: string): Promise<void> {
  if (!services.hasher.needsRehash(user.passwordHash)) return;
  const passwordHash = await services.hasher.hash(password);
  await services.db.forTenant(user.tenant.id).nativeUpdate(User, { id: user.id }, { passwordHash });
  user.passwordHash = passwordHash;
}

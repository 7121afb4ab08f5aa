import { z } from 'zod';
import type { RequestMeta } from '../context.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { issueSignInChallenge } from '../mfa/challenges.ts';
import type { Services } from '../services.ts';
import type { TenantView, UserView } from '../access/viewer.ts';
import { signInAccount } from '../db/credential-lookup.ts';
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

const UNKNOWN_DEVICE: Recognition = { byCookie: null };

export interface SignedIn extends IssuedSession {
  user: UserView;
  tenant: TenantView;
  deviceToken: string | null;
}

/**
 * Password sign-in. Unknown tenant, unknown email, disabled user and wrong password all fail the same
 * way after the same work (one lookup, one hash verified, a dummy one when there is no user); with
 * TOTP on, a challenge replaces the session.
 */
export async function signIn(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const { tenantSlug, email, password } = parseInput(SignInSchema, input);
  const account = await signInAccount(services.db, tenantSlug, email);
  const tenant = account?.tenant ?? null;
  const user = account?.user ?? null;
  // An unknown tenant's failures go to the platform journal, through the very same steps.
  const scopeId = tenant?.id ?? PLATFORM_TENANT_ID;
  const device = user ? await recognizeDevice(services.db.forTenant(scopeId), user.id, meta) : UNKNOWN_DEVICE;
  const attempt = await SignInAttempt.begin(services, scopeId, meta, `${tenantSlug}/${email}`, device);

  const passwordMatches = await services.hasher.verify(user?.passwordHash ?? null, password);
  if (!tenant || !user || !passwordMatches || user.disabledAt) {
    const reason = !tenant ? 'unknown_tenant' : !user ? 'unknown_email' : !passwordMatches ? 'wrong_password' : 'user_disabled';
    throw await attempt.fail(user, { email, reason, ...(tenant ? {} : { tenantSlug }) });
  }
  await attempt.succeed();
  await rehashIfOutdated(services, tenant.id, user, password);

  if (user.totpEnabledAt) {
    const challenge = await issueSignInChallenge(services, meta, tenant.id, user);
    throw clientError(ErrorCode.TOTP_REQUIRED, undefined, { challenge: challenge.token, expiresAt: challenge.expiresAt.toISOString() });
  }
  const issued = await completeSignIn(services, meta, { user, tenant, device, authMethod: 'password' });
  return { ...issued, user, tenant };
}

/** argon2 parameters only ever go up: a hash made with older ones is replaced while we hold the password. */
async function rehashIfOutdated(services: Services, tenantId: string, user: { id: string; passwordHash: string }, password: string): Promise<void> {
  if (!services.hasher.needsRehash(user.passwordHash)) return;
  const passwordHash = await services.hasher.hash(password);
  await services.db.forTenant(tenantId).nativeUpdate(User, { id: user.id }, { passwordHash });
}

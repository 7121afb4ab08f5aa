import { z } from 'zod';
import { type RequestMeta, signInOrigin } from '../context.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { issueSignInChallenge } from '../mfa/challenges.ts';
import type { Services } from '../services.ts';
import { issuePasswordReset } from '../users/password-reset-token.ts';
import { User } from '../users/user.entity.ts';
import { ErrorCode, type FieldProblem, badInput, clientError } from '../errors.ts';
import { checkInput, fields, textProblem } from '../validation.ts';
import { type Recognition, recognizeDevice } from './known-devices.ts';
import type { SignedIn } from './sessions.ts';
import { SignInAttempt, completeSignIn } from './sign-in-attempt.ts';
import { readReservation, reservationArguments, signInAttempts } from './sign-in-throttle.ts';

// Deliberately loose: a malformed slug or email is simply one that does not exist.
const SignInSchema = z.object({
  tenantSlug: z.string().trim().toLowerCase().min(1, 'Enter the company address.').max(63, 'Use at most 63 characters.'),
  email: z.string().trim().toLowerCase().min(1, 'Enter your email.').max(254, 'Use at most 254 characters.'),
  password: fields.password,
});

const UNKNOWN_DEVICE: Recognition = { byCookie: null };

/**
 * Password sign-in. Unknown tenant, unknown email, disabled user and wrong password all fail the same
 * way after the same work (one lookup, one hash verified, a dummy one when there is no user); with
 * TOTP on, a challenge replaces the session.
 */
export async function signIn(services: Services, meta: RequestMeta, input: Record<string, unknown>): Promise<SignedIn> {
  const checked = checkInput(SignInSchema, input);
  if ('problems' in checked) {
    await refuseMalformedSignIn(services, meta, input, checked.problems);
    throw badInput(checked.problems);
  }
  const { tenantSlug, email, password } = checked.data;
  const { account, device, attempt } = await lookUpAndReserve(services, meta, tenantSlug, email);
  const tenant = account?.tenant ?? null;
  const user = account?.user ?? null;

  const passwordMatches = await services.hasher.verify(user?.passwordHash ?? null, password);
  if (!tenant || !user || !passwordMatches || user.disabledAt) {
    const reason = !tenant ? 'unknown_tenant' : !user ? 'unknown_email' : !passwordMatches ? 'wrong_password' : 'user_disabled';
    throw await attempt.fail(user, { email, reason, ...(tenant ? {} : { tenantSlug }) });
  }
  await rehashIfOutdated(services, tenant.id, user, password);
  if (user.passwordChangeRequired) {
    await attempt.succeed(); // the password was right; the new one is set with the token
    await requireNewPassword(services, meta, tenant.id, user);
  }
  if (user.totpEnabledAt) {
    await attempt.succeed(); // the password was right; the code will be an attempt of its own
    await requireSecondFactor(services, meta, tenant.id, user);
  }
  const issued = await completeSignIn(services, meta, { user, tenant, device, authMethod: 'password', attempt });
  return { ...issued, user, tenant };
}

/**
 * A sign-in whose input is malformed (not even well-formed text, or too long) is still an attempt: it is
 * counted like a wrong password and journalled (the text made storable by the journal); the caller then
 * refuses it as BAD_USER_INPUT.
 */
export async function refuseMalformedSignIn(services: Services, meta: RequestMeta, input: Record<string, unknown>, problems: FieldProblem[]): Promise<void> {
  const text = (value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : '');
  const slug = text(input.tenantSlug);
  const email = text(input.email);
  const tenantId = slug && !textProblem(slug) && slug.length <= 63 ? await services.locators.tenantBySlug(slug) : null;
  const scopeId = tenantId ?? PLATFORM_TENANT_ID;
  const attempt = await SignInAttempt.begin(services, scopeId, meta, { slug, email }, UNKNOWN_DEVICE);
  const names = problems.map((problem) => problem.field.replace(/^input\./, ''));
  await attempt.fail(null, { email, reason: 'malformed_input', fields: names, ...(tenantId ? {} : { tenantSlug: slug }) });
}

/**
 * After a lockdown the right password alone opens no session: it earns a one-time token to set a new one
 * (completePasswordReset, which then asks for the code when TOTP is on), as PASSWORD_CHANGE_REQUIRED.
 */
export async function requireNewPassword(services: Services, meta: RequestMeta, tenantId: string, user: { id: string; passwordChangeRequired?: boolean }): Promise<void> {
  if (!user.passwordChangeRequired) return;
  const { reset, token } = await inTenantTransaction(services, { tenantId, origin: signInOrigin(meta, user.id), viewer: null }, async (work) => {
    const issued = await issuePasswordReset(work, tenantId, user.id, user.id);
    await work.journal.record({ action: 'user.password_change_required', target: { type: 'user', id: user.id }, details: { resetId: issued.reset.id } });
    return issued;
  });
  throw clientError(ErrorCode.PASSWORD_CHANGE_REQUIRED, undefined, { resetToken: token, expiresAt: reset.expiresAt.toISOString() });
}
/** With TOTP on, a proven password earns a challenge
 (TOTP_REQUIRED), not a session. */
export async function requireSecondFactor(services: Services, meta: RequestMeta, tenantId: string, user: { id: string; totpEnabledAt?: Date | null }): Promise<void> {
  if (!user.totpEnabledAt) return;
  const challenge = await issueSignInChallenge(services, meta, tenantId, user);
  throw clientError(ErrorCode.TOTP_REQUIRED, undefined, { challenge: challenge.token, expiresAt: challenge.expiresAt.toISOString() });
}

/**
 * The account and the attempt's reservations. A client without a device cookie (most of them) gets both
 * in one statement; with a cookie, the device is recognised first, since it decides what is counted.
 * An unknown tenant's failures go to the platform journal, through the very same steps.
 */
async function lookUpAndReserve(services: Services, meta: RequestMeta, slug: string, email: string) {
  const now = services.clock.now();
  if (meta.deviceToken) {
    const account = await services.credentials.signInAccount(slug, email);
    const scopeId = account?.tenant.id ?? PLATFORM_TENANT_ID;
    const device = account?.user ? await recognizeDevice(services.db.forTenant(scopeId), account.user.id, meta) : UNKNOWN_DEVICE;
    return { account, device, attempt: await SignInAttempt.begin(services, scopeId, meta, { slug, email }, device) };
  }
  const attempts = signInAttempts(meta.ip, { slug, email }, null);
  const [row] = await services.db.prepared<{ account: unknown; reservation: unknown }>(
    'vigil_sign_in_lookup_and_reserve',
    'select vigil_sign_in_account($1, $2) as account, vigil_reserve_sign_in($3, $4::jsonb) as reservation',
    [slug, email, ...reservationArguments(attempts, now)],
  );
  const account = services.credentials.readSignInAccount(row.account);
  const reservations = readReservation(row.reservation, attempts);
  const scopeId = account?.tenant.id ?? PLATFORM_TENANT_ID;
  return { account, device: UNKNOWN_DEVICE, attempt: SignInAttempt.reserved(services, scopeId, meta, reservations) };
}

/** argon2 parameters only ever go up: a hash made with older ones is replaced while we hold the password. */
async function rehashIfOutdated(services: Services, tenantId: string, user: { id: string; passwordHash: string }, password: string): Promise<void> {
  if (!services.hasher.needsRehash(user.passwordHash)) return;
  const passwordHash = await services.hasher.hash(password);
  await services.db.forTenant(tenantId).nativeUpdate(User, { id: user.id }, { passwordHash });
}

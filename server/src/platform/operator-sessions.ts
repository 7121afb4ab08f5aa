import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RequestMeta } from '../context.ts';
import { ErrorCode, clientError, forbidden } from '../errors.ts';
import { acceptTotp, claimTotpStep } from '../mfa/totp.ts';
import type { Services } from '../services.ts';
import { releaseArgument, releaseAttempts, reserveAttempts, signInAttempts } from '../sessions/sign-in-throttle.ts';
import { sameHash } from '../tokens.ts';
import { truncateUserAgent } from '../sessions/open-session.ts';
import { fields, parseInput } from '../validation.ts';
import { OperatorSession, PlatformOperator } from './operator.entity.ts';
import { mintOperatorToken, readOperatorToken } from './operator-token.ts';
import { OPERATOR_SESSION_POLICY, type OperatorViewer } from './operator-viewer.ts';
import { type OperatorWork, asOperatorRole, operatorOrigin } from './operator-work.ts';

/** The operators' attempts are counted apart from every company's: no tenant slug can be this. */
const OPS_REALM = '#ops';

const SignInSchema = z.object({
  email: z.string().trim().toLowerCase().min(1, 'Enter your email.').max(254, 'Use at most 254 characters.'),
  password: fields.password,
  totpCode: z.string().trim().min(1, 'Enter the code from your authenticator app.').max(16, 'Use the six digits of your authenticator app.'),
});

const ProofSchema = SignInSchema.omit({ email: true });

const refused = () => clientError(ErrorCode.INVALID_CREDENTIALS, 'The email, password or code is wrong.');

export interface OperatorSignedIn {
  token: string;
  viewer: OperatorViewer;
}

/**
 * An operator's sign-in: password and confirmation code together, always (TOTP is mandatory for them).
 * Wrong attempts count against the address and the account as a company user's do, and are journalled in
 * the platform journal; an operator the other has not approved yet is told so once both factors are right.
 */
export async function operatorSignIn(services: Services, meta: RequestMeta, input: unknown): Promise<OperatorSignedIn> {
  const { email, password, totpCode } = parseInput(SignInSchema, input);
  const [address, account] = await reserveAttempts(services.db.unscoped(), signInAttempts(meta.ip, { slug: OPS_REALM, email }, null), services.clock.now());
  const found = await services.db.asOperatorRole((em) => em.findOne(PlatformOperator, { email }));
  const step = await proveOperator(services, found, { password, totpCode });
  if (!found || step === null || found.disabledAt) {
    const reason = !found ? 'unknown_email' : found.disabledAt ? 'operator_disabled' : 'wrong_password_or_code';
    await journalFailure(services, meta, found?.id ?? null, { email, reason });
    throw refused();
  }
  await releaseAttempts(services.db, releaseArgument(account, address));
  if (!found.approvedAt) {
    await journalFailure(services, meta, found.id, { email, reason: 'awaiting_approval' });
    throw forbidden('The other operator has not approved this account yet.');
  }
  return asOperatorRole(services, operatorOrigin(meta, null, found.id), null, (work) => openOperatorSession(work, meta, found, step));
}

/** The operator's session, presented as a token; null when it is no live session (anything else is no credential). */
export async function authenticateOperator(services: Services, token: string | null): Promise<OperatorViewer | null> {
  const presented = readOperatorToken(token);
  if (!presented) return null;
  return services.db.asOperatorRole(async (em) => {
    const session = await em.findOne(OperatorSession, { id: presented.sessionId }, { populate: ['operator'] });
    if (!session || session.endedAt || !sameHash(presented.secretHash, session.secretHash)) return null;
    const now = services.clock.now();
    const operator = session.operator;
    const idleEnds = new Date(session.lastSeenAt.getTime() + OPERATOR_SESSION_POLICY.idleSeconds * 1000);
    if (now >= session.expiresAt || now >= idleEnds || operator.disabledAt || !operator.approvedAt) {
      await em.nativeUpdate(OperatorSession, { id: session.id, endedAt: null }, { endedAt: now, endReason: operator.disabledAt ? 'disabled' : 'expired' });
      return null;
    }
    await em.nativeUpdate(OperatorSession, { id: session.id }, { lastSeenAt: now });
    return viewerOf(operator, { ...session, lastSeenAt: now });
  });
}

/** A fresh proof for approvals: password and code again, within five minutes of the operation. */
export async function operatorStepUp(services: Services, meta: RequestMeta, viewer: OperatorViewer, input: unknown): Promise<Date> {
  const proof = parseInput(ProofSchema, input);
  const { operator } = viewer;
  const [address, account] = await reserveAttempts(services.db.unscoped(), signInAttempts(meta.ip, { slug: OPS_REALM, email: operator.email }, null), services.clock.now());
  const found = await services.db.asOperatorRole((em) => em.findOneOrFail(PlatformOperator, operator.id));
  const step = await proveOperator(services, found, proof);
  if (step === null) {
    await journalFailure(services, meta, operator.id, { email: operator.email, reason: 'wrong_password_or_code', stepUp: true });
    throw refused();
  }
  await releaseAttempts(services.db, releaseArgument(account, address));
  return asOperatorRole(services, operatorOrigin(meta, viewer), viewer, async (work) => {
    await claimOperatorStep(work, operator.id, step);
    await work.em.nativeUpdate(OperatorSession, { id: viewer.session.id, endedAt: null }, { steppedUpAt: work.now });
    await work.journal.record({ action: 'operator.stepped_up', target: { type: 'operator', id: operator.id }, details: { sessionId: viewer.session.id } });
    return work.now;
  });
}

export async function operatorSignOut(services: Services, meta: RequestMeta, viewer: OperatorViewer): Promise<void> {
  await asOperatorRole(services, operatorOrigin(meta, viewer), viewer, async (work) => {
    await work.em.nativeUpdate(OperatorSession, { id: viewer.session.id, endedAt: null }, { endedAt: work.now, endReason: 'signed_out' });
    await work.journal.record({ action: 'operator.signed_out', target: { type: 'operator', id: viewer.operator.id }, details: { sessionId: viewer.session.id } });
  });
}

/** The accepted code's step when both the password and the code are right; null otherwise (one hash verified either way). */
async function proveOperator(services: Services, operator: PlatformOperator | null, proof: { password: string; totpCode: string }): Promise<number | null> {
  const passwordMatches = await services.hasher.verify(operator?.passwordHash ?? null, proof.password);
  if (!operator || !passwordMatches) return null;
  return acceptTotp(services.keys.decrypt(operator.totpSecretEnc), proof.totpCode, services.clock.now(), operator.totpLastStep ?? null);
}

/** Of two requests racing with one code, one claims its step. */
async function claimOperatorStep(work: OperatorWork, operatorId: string, step: number): Promise<void> {
  if (!(await claimTotpStep(work.em, PlatformOperator, operatorId, step))) throw refused();
}

async function openOperatorSession(work: OperatorWork, meta: RequestMeta, operator: PlatformOperator, step: number): Promise<OperatorSignedIn> {
  await claimOperatorStep(work, operator.id, step);
  const id = randomUUID();
  const { token, secretHash } = mintOperatorToken(id);
  const { now } = work;
  const expiresAt = new Date(now.getTime() + OPERATOR_SESSION_POLICY.absoluteSeconds * 1000);
  const session = { id, operator: operator.id, secretHash, createdAt: now, lastSeenAt: now, expiresAt, steppedUpAt: null, ip: meta.ip, userAgent: truncateUserAgent(meta.userAgent), endedAt: null, endReason: null };
  await work.em.insert(OperatorSession, session);
  await work.journal.record({ action: 'operator.signed_in', target: { type: 'operator', id: operator.id }, details: { sessionId: id } });
  return { token, viewer: viewerOf(operator, session) };
}

function viewerOf(operator: PlatformOperator, session: Omit<OperatorViewer['session'], 'steppedUpAt'> & { steppedUpAt?: Date | null }): OperatorViewer {
  return {
    operator: { id: operator.id, email: operator.email, displayName: operator.displayName, slot: operator.slot.slot },
    session: { id: session.id, createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, expiresAt: session.expiresAt, steppedUpAt: session.steppedUpAt ?? null },
  };
}

async function journalFailure(services: Services, meta: RequestMeta, operatorId: string | null, details: Record<string, unknown>): Promise<void> {
  await asOperatorRole(services, operatorOrigin(meta, null), null, (work) =>
    work.journal.record({
      action: 'operator.sign_in_failed',
      outcome: 'failure',
      target: operatorId ? { type: 'operator', id: operatorId } : null,
      details,
    }),
  );
}

import { randomUUID } from 'node:crypto';
import { formatIdSecret, hashSecret, newSecret } from '../tokens.ts';
import type { Work } from '../unit-of-work.ts';
import { PasswordReset } from './password-reset.entity.ts';

const PASSWORD_RESET_LIFETIME_SECONDS = 24 * 60 * 60;

/** A one-time token (24 hours) to set the user's password; it replaces any pending one. */
export async function issuePasswordReset(work: Pick<Work, 'em' | 'now'>, tenantId: string, userId: string, resetBy: string): Promise<{ reset: PasswordReset; token: string }> {
  const { now } = work;
  await work.em.nativeUpdate(PasswordReset, { user: userId, usedAt: null, revokedAt: null }, { revokedAt: now });
  const secret = newSecret();
  const reset = work.em.create(PasswordReset, {
    id: randomUUID(),
    tenant: tenantId,
    user: userId,
    secretHash: hashSecret(secret),
    resetBy,
    createdAt: now,
    expiresAt: new Date(now.getTime() + PASSWORD_RESET_LIFETIME_SECONDS * 1000),
    usedAt: null,
    revokedAt: null,
  });
  await work.em.flush();
  return { reset, token: formatIdSecret({ id: reset.id, secret }) };
}

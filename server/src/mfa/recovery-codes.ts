import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { hashSecret } from '../tokens.ts';
import type { User } from '../users/user.entity.ts';
import { RecoveryCode } from './recovery-code.entity.ts';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** 24 characters from a 32-letter alphabet (120 bits), grouped by four for reading aloud. */
function newRecoveryCode(): string {
  const bytes = randomBytes(24);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Replaces the user's recovery codes; the plain codes are returned once and never stored. */
export async function replaceRecoveryCodes(em: EntityManager, user: User, now: Date): Promise<string[]> {
  await em.nativeDelete(RecoveryCode, { user: user.id });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  for (const code of codes) {
    em.create(RecoveryCode, { id: randomUUID(), tenant: user.tenant, user, codeHash: hashSecret(normalizeRecoveryCode(code)), createdAt: now, usedAt: null });
  }
  await em.flush();
  return codes;
}

/** Marks a recovery code used if it is the user's and unused; true when this call consumed it. */
export async function consumeRecoveryCode(em: EntityManager, user: { id: string }, code: string, now: Date): Promise<boolean> {
  const consumed = await em.nativeUpdate(
    RecoveryCode,
    { user: user.id, codeHash: hashSecret(normalizeRecoveryCode(code)), usedAt: null },
    { usedAt: now },
  );
  return consumed === 1;
}

export async function isUnusedRecoveryCode(em: EntityManager, user: { id: string }, code: string): Promise<boolean> {
  return (await em.count(RecoveryCode, { user: user.id, codeHash: hashSecret(normalizeRecoveryCode(code)), usedAt: null })) === 1;
}

import { dictionary } from '@zxcvbn-ts/language-common';
import type { FieldProblem } from '../errors.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** zxcvbn-ts ships the ~49,000 most common passwords seen in breaches. */
const commonPasswords = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export const COMMON_PASSWORD_COUNT = commonPasswords.size;

/**
 * NIST 800-63B / ASVS 6.2: length only (counted in code points), no composition rules,
 * no common passwords; the maximum bounds the cost of hashing.
 */
export function passwordProblems(password: string, field = 'password'): FieldProblem[] {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return [{ field, message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` }];
  if (length > PASSWORD_MAX_LENGTH) return [{ field, message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` }];
  if (commonPasswords.has(password.toLowerCase())) {
    return [{ field, message: 'This password is too common; choose another.' }];
  }
  return [];
}

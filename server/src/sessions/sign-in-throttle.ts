import type { EntityManager } from '@mikro-orm/postgresql';
import { rateLimited } from '../errors.ts';
import { hashSecret } from '../tokens.ts';
import { SignInThrottle } from './sign-in-throttle.entity.ts';

export interface ThrottleRule {
  /** From this many failures on, each attempt must wait 2^(n - delayFrom) s (progressive delay, capped). */
  delayFrom: number;
  maxDelaySeconds: number;
  /** This many failures lock the key for lockSeconds. */
  lockAt: number;
  lockSeconds: number;
  /** Failures older than this are forgiven: yesterday's typo does not delay today's sign-in. */
  windowSeconds: number;
}

/** Per account (or known device): 10 failures lock it for 15 minutes. */
export const ACCOUNT_RULE: ThrottleRule = { delayFrom: 3, maxDelaySeconds: 60, lockAt: 10, lockSeconds: 15 * 60, windowSeconds: 15 * 60 };
/** Per client address: wider, since offices share one address, but it stops a spray across accounts. */
export const ADDRESS_RULE: ThrottleRule = { delayFrom: 30, maxDelaySeconds: 10, lockAt: 100, lockSeconds: 15 * 60, windowSeconds: 15 * 60 };

export interface Reservation {
  key: string;
  rule: ThrottleRule;
  /** This attempt, if it fails, is the one that locks the key. */
  locksOnFailure: boolean;
}

export const throttleKey = (...parts: string[]) => hashSecret(parts.join(':'));

/**
 * Counts an attempt on each key, in order, before the password is checked, under the row lock of an
 * upsert in one statement (vigil_reserve_sign_in), so parallel requests and instances count one by one.
 * Throws RATE_LIMITED at the first key that is locked or must still wait.
 */
export async function reserveAttempts(em: EntityManager, attempts: Array<{ key: string; rule: ThrottleRule }>, now: Date): Promise<Reservation[]> {
  const [{ outcome }] = await em.execute<Array<{ outcome: ReserveOutcome | string }>>('select vigil_reserve_sign_in(?, ?::jsonb) as outcome', [
    now,
    JSON.stringify(attempts.map(({ key, rule }) => ({ key, ...rule }))),
  ]);
  const result: ReserveOutcome = typeof outcome === 'string' ? JSON.parse(outcome) : outcome;
  if ('retryAfter' in result) throw rateLimited(Number(result.retryAfter));
  return result.reserved.map((r, i) => ({ key: r.key, rule: attempts[i].rule, locksOnFailure: r.locksOnFailure }));
}

type ReserveOutcome = { retryAfter: number } | { reserved: Array<{ key: string; locksOnFailure: boolean }> };

/** A success forgives: the account's count is cleared, the address only gets this attempt back. */
export async function releaseAttempts(em: EntityManager, account: Reservation, address: Reservation): Promise<void> {
  await em.execute(
    `with forgiven as (delete from sign_in_throttle where key = ?)
     update sign_in_throttle set failures = failures - 1 where key = ? and failures > 0 and locked_until is null`,
    [account.key, address.key],
  );
}

/** An owner or administrator lifts a lock early. */
export async function clearThrottle(em: EntityManager, key: string): Promise<void> {
  await em.nativeDelete(SignInThrottle, { key });
}

import { type EntityManager, raw } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
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
 * Counts an attempt before the password is checked, under a row lock, so that parallel requests and
 * aliases inside one request are counted one by one. Throws RATE_LIMITED while delayed or locked.
 */
export async function reserveAttempt(em: EntityManager, key: string, rule: ThrottleRule, now: Date): Promise<Reservation> {
  return em.transactional(async (tx) => {
    await tx.upsert(SignInThrottle, { key, failures: 0, lastAttemptAt: now, lockedUntil: null }, { onConflictAction: 'ignore' });
    const state = await tx.findOneOrFail(SignInThrottle, key, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (state.lockedUntil && state.lockedUntil > now) throw rateLimited(secondsUntil(state.lockedUntil, now));
    if (now.getTime() - state.lastAttemptAt.getTime() > rule.windowSeconds * 1000) state.failures = 0;
    const waitUntil = new Date(state.lastAttemptAt.getTime() + delaySeconds(state.failures, rule) * 1000);
    if (waitUntil > now) throw rateLimited(secondsUntil(waitUntil, now));
    state.failures += 1;
    state.lastAttemptAt = now;
    const locksOnFailure = state.failures >= rule.lockAt;
    if (locksOnFailure) {
      state.failures = 0;
      state.lockedUntil = new Date(now.getTime() + rule.lockSeconds * 1000);
    } else {
      state.lockedUntil = null;
    }
    return { key, rule, locksOnFailure };
  });
}

/** A success forgives: the account key is cleared; an address only gets its attempt back. */
export async function releaseAttempt(em: EntityManager, reservation: Reservation, forgetAll: boolean): Promise<void> {
  if (forgetAll) {
    await em.nativeDelete(SignInThrottle, { key: reservation.key });
  } else if (!reservation.locksOnFailure) {
    await em.nativeUpdate(SignInThrottle, { key: reservation.key, failures: { $gt: 0 } }, { failures: raw('failures - 1') });
  }
}

/** An owner or administrator lifts a lock early. */
export async function clearThrottle(em: EntityManager, key: string): Promise<void> {
  await em.nativeDelete(SignInThrottle, { key });
}

function delaySeconds(failures: number, rule: ThrottleRule): number {
  if (failures < rule.delayFrom) return 0;
  return Math.min(2 ** (failures - rule.delayFrom), rule.maxDelaySeconds);
}

function secondsUntil(then: Date, now: Date): number {
  return Math.max(1, Math.ceil((then.getTime() - now.getTime()) / 1000));
}

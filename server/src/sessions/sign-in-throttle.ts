import type { EntityManager } from '@mikro-orm/postgresql';
import type { Database } from '../db/database.ts';
import { rateLimited } from '../errors.ts';
import { hashSecret } from '../tokens.ts';
import { SignInThrottle } from './sign-in-throttle.entity.ts';
import { jsonOf } from '../db/rows.ts';

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

const throttleKey = (...parts: string[]) => hashSecret(parts.join(':'));

/** The count of an account, named by company address and email whether or not they exist (no enumeration). */
export const accountKey = (slug: string, email: string) => throttleKey('account', `${slug}/${email}`);
const deviceKey = (deviceId: string) => throttleKey('device', deviceId);
const addressKey = (ip: string | null) => throttleKey('ip', ip ?? 'unknown');

export interface Attempt {
  key: string;
  rule: ThrottleRule;
}

/** What one sign-in attempt counts against: the client address, then the account or its known device. */
export function signInAttempts(ip: string | null, account: { slug: string; email: string }, knownDeviceId: string | null): Attempt[] {
  return [
    { key: addressKey(ip), rule: ADDRESS_RULE },
    { key: knownDeviceId ? deviceKey(knownDeviceId) : accountKey(account.slug, account.email), rule: ACCOUNT_RULE },
  ];
}

/** The arguments of vigil_reserve_sign_in(now, attempts). */
export function reservationArguments(attempts: Attempt[], now: Date): [Date, string] {
  return [now, JSON.stringify(attempts.map(({ key, rule }) => ({ key, ...rule })))];
}

/** The reservations vigil_reserve_sign_in made, or RATE_LIMITED when a key is locked or must wait. */
export function readReservation(outcome: unknown, attempts: Attempt[]): Reservation[] {
  const result = jsonOf<ReserveOutcome>(outcome);
  if ('retryAfter' in result) throw rateLimited(Number(result.retryAfter));
  return result.reserved.map((r, i) => ({ key: r.key, rule: attempts[i].rule, locksOnFailure: r.locksOnFailure }));
}

/**
 * Counts an attempt on each key, in order, before the password is checked, under the row lock of an
 * upsert in one statement (vigil_reserve_sign_in), so parallel requests and instances count one by one.
 * Throws RATE_LIMITED at the first key that is locked or must still wait.
 */
export async function reserveAttempts(em: EntityManager, attempts: Attempt[], now: Date): Promise<Reservation[]> {
  const [{ outcome }] = await em.execute<Array<{ outcome: unknown }>>('select vigil_reserve_sign_in(?, ?::jsonb) as outcome', reservationArguments(attempts, now));
  return readReservation(outcome, attempts);
}

type ReserveOutcome = { retryAfter: number } | { reserved: Array<{ key: string; locksOnFailure: boolean }> };

/** vigil_release_sign_in's argument: the keys of the account (or device) and of the address. */
export function releaseArgument(account: Reservation, address: Reservation): string {
  return JSON.stringify({ account: account.key, address: address.key });
}

/** A success forgives: the account's count is cleared, the address only gets this attempt back. */
export async function releaseAttempts(db: Database, release: string): Promise<void> {
  await db.prepared('vigil_release_sign_in', 'select vigil_release_sign_in($1::jsonb)', [release]);
}

/** An owner or administrator lifts a lock early. */
export async function clearThrottle(em: EntityManager, key: string): Promise<void> {
  await em.nativeDelete(SignInThrottle, { key });
}

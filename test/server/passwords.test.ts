import * as argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARGON2_FLOOR } from '../../server/src/config.ts';
import { EventLoopLoad } from '../../server/src/event-loop.ts';
import { PasswordHasher } from '../../server/src/users/password-hasher.ts';
import { COMMON_PASSWORD_COUNT, passwordProblems } from '../../server/src/users/password-policy.ts';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, signIn, signUpTenant } from '../support/factories.ts';
import { asOwner } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil({ env: { ARGON2_TIME_COST: '3' } });
});
afterAll(async () => vigil?.stop());

const storedHash = async (userId: string) =>
  asOwner(vigil, async (q) => (await q<{ password_hash: string }>('select password_hash from app_user where id = $1', [userId]))[0].password_hash);

describe('password storage', () => {
  test('argon2id at or above the OWASP floor', async () => {
    const owner = await signUpTenant(vigil.client());
    const hash = await storedHash(owner.userId);
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
    expect(match).not.toBeNull();
    const [m, t, p] = match!.slice(1).map(Number);
    expect(m).toBeGreaterThanOrEqual(ARGON2_FLOOR.memoryCost);
    expect(t).toBe(3);
    expect(p).toBe(1);
  });

  test('the argon2 binding reproduces the RFC 9106 argon2id test vector', async () => {
    const tag = await argon2.hash(Buffer.alloc(32, 1), {
      type: argon2.argon2id,
      salt: Buffer.alloc(16, 2),
      secret: Buffer.alloc(8, 3),
      associatedData: Buffer.alloc(12, 4),
      memoryCost: 32,
      timeCost: 3,
      parallelism: 4,
      hashLength: 32,
      raw: true,
    });
    expect(tag.toString('hex')).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  test('a hash with older parameters is replaced on the next sign-in', async () => {
    const owner = await signUpTenant(vigil.client());
    const weaker = await argon2.hash(STRONG_PASSWORD, { type: argon2.argon2id, ...ARGON2_FLOOR });
    await asOwner(vigil, (q) => q('update app_user set password_hash = $1 where id = $2', [weaker, owner.userId]));
    expect(await storedHash(owner.userId)).toContain('t=2');
    expect((await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).errors).toBeUndefined();
    const rehashed = await storedHash(owner.userId);
    expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
    expect(await argon2.verify(rehashed, STRONG_PASSWORD)).toBe(true);
  });
});

describe('password rules', () => {
  test('the common-password list has at least 10,000 entries', () => {
    expect(COMMON_PASSWORD_COUNT).toBeGreaterThanOrEqual(10_000);
  });

  test.each([
    ['11 characters', 'abcdefghijk', false],
    ['12 characters', 'abcdefghijkl', true],
    ['256 characters', 'a'.repeat(255) + 'b', true],
    ['257 characters', 'a'.repeat(257), false],
    ['a breached password', '1qaz2wsx3edc', false],
    ['a breached password in other case', '1QAZ2WSX3EDC', false],
    ['only lowercase letters, no composition rules', 'correcthorsebatterystaple', true],
  ])('%s', (_name, password, acceptable) => {
    expect(passwordProblems(password).length === 0).toBe(acceptable);
  });

  test('sign-in checks the whole password: no truncation, no case folding', async () => {
    const owner = await signUpTenant(vigil.client());
    for (const variant of [STRONG_PASSWORD.toUpperCase(), STRONG_PASSWORD.slice(0, -1), `${STRONG_PASSWORD} `]) {
      expect(errorCode(await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: variant }))).toBe('INVALID_CREDENTIALS');
    }
  });
});

/** The highest `hasher.running` while `work` runs. */
async function peakRunning(hasher: PasswordHasher, work: () => Promise<unknown>): Promise<number> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, hasher.running)), 1);
  await work();
  clearInterval(sampler);
  return peak;
}

describe('the hashing cap', () => {
  test('never runs more hashes at once than the cap, and refuses a flood beyond the queue', async () => {
    const hasher = new PasswordHasher(ARGON2_FLOOR, 2);
    const hash = await hasher.hash('some long password');
    const peak = await peakRunning(hasher, () => Promise.all(Array.from({ length: 12 }, () => hasher.verify(hash, 'some long password'))));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);

    const flood = Array.from({ length: 2 * 64 + 10 }, () => hasher.verify(hash, 'x').then(() => 'done', (e) => e.extensions?.code));
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'done').length).toBeGreaterThanOrEqual(2 * 64);
  });

  test('one hash more waits in libuv\'s threadpool when it is the cap and the event loop has room; one fewer runs while it is busy', async () => {
    const load = new EventLoopLoad();
    const hasher = new PasswordHasher(ARGON2_FLOOR, 2, { threadpoolIsCap: true, load });
    const hash = await hasher.hash('some long password');
    const verifyMany = () => Promise.all(Array.from({ length: 12 }, () => hasher.verify(hash, 'some long password')));

    load.busy();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await peakRunning(hasher, verifyMany)).toBe(3);

    load.busy();
    const until = performance.now() + 150;
    while (performance.now() < until); // a busy event loop: it gets a core back from hashing
    expect(await peakRunning(hasher, verifyMany)).toBe(1);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { AUTH_FIELDS, STRONG_PASSWORD, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  // Behind a trusted proxy each test signs in from its own address, so their per-address counts stay apart.
  vigil = await startVigil({ env: { TRUSTED_PROXIES: 'loopback' } });
});
afterAll(async () => vigil?.stop());

let lastOctet = 0;
let address = '';
beforeEach(() => {
  address = `198.51.100.${++lastOctet}`;
});

/** A client at this test's own address. */
function client(userAgent?: string) {
  const c = vigil.client();
  c.extraHeaders['x-forwarded-for'] = address;
  if (userAgent) c.extraHeaders['user-agent'] = userAgent;
  return c;
}

/** Wrong passwords, waiting out each progressive delay, until the account locks. */
async function failUntilLocked(slug: string, email: string) {
  const codes: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    vigil.clock.advance(61);
    codes.push(errorCode(await signIn(client(), { tenantSlug: slug, email, password: `wrong password ${attempt}` }))!);
  }
  return codes;
}

describe('progressive delay and lockout', () => {
  test('failures delay the next attempt, ten lock the account for 15 minutes, and the lock is journalled', async () => {
    const owner = await signUpTenant(client());
    const quick = [];
    for (let i = 0; i < 4; i++) quick.push(errorCode(await signIn(client(), { tenantSlug: owner.slug, email: owner.email, password: 'wrong password x' })));
    expect(quick).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
    vigil.clock.advance(901);
    const codes = await failUntilLocked(owner.slug, owner.email);
    expect(codes).toEqual(Array(10).fill('INVALID_CREDENTIALS'));
    const locked = await signIn(client(), { tenantSlug: owner.slug, email: owner.email });
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(locked.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(800);
    const lockouts = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.locked_out');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0].details).toMatchObject({ scope: 'account', lockSeconds: 900 });
    vigil.clock.advance(15 * 60 + 1);
    expect((await signIn(client(), { tenantSlug: owner.slug, email: owner.email })).errors).toBeUndefined();
  });

  test('an address past 60 failures keeps getting RATE_LIMITED or INVALID_CREDENTIALS, never an internal error (the delay once overflowed)', async () => {
    const owner = await signUpTenant(client());
    const codes = new Set<string>();
    for (let i = 0; i < 70; i++) {
      vigil.clock.advance(11);
      codes.add(errorCode(await signIn(client(), { tenantSlug: owner.slug, email: `sprayed-${i}@acme.test`, password: 'Winter2026!' }))!);
    }
    expect([...codes].sort()).toEqual(['INVALID_CREDENTIALS']);
    // Without the wait, the address is told how long to wait, and nothing else breaks.
    const waiting = await signIn(client(), { tenantSlug: owner.slug, email: 'sprayed-70@acme.test', password: 'Winter2026!' });
    expect(errorCode(waiting)).toBe('RATE_LIMITED');
    expect(waiting.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(10);
  }, 60_000);

  test('an unknown account is throttled exactly like a real one (no enumeration)', async () => {
    const owner = await signUpTenant(client());
    const real = await failUntilLocked(owner.slug, owner.email);
    const ghost = await failUntilLocked(owner.slug, 'ghost@acme.test');
    expect(ghost).toEqual(real);
  });

  test('aliases inside one request are attempts like any other: counted one by one, never in bulk', async () => {
    const owner = await signUpTenant(client());
    const guesses = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => `a${from + i}: signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "guess number ${from + i}" }) { token }`).join('\n');
    // Mutation fields run one after another and signIn is non-null: the first failure ends the request.
    const first = await client().request(`mutation { ${guesses(0, 12)} }`);
    expect(first.data).toBeNull();
    expect(first.errors!.map((e) => e.extensions!.code)).toEqual(['INVALID_CREDENTIALS']);
    await client().request(`mutation { ${guesses(12, 12)} }`);
    await client().request(`mutation { ${guesses(24, 12)} }`);
    const fourth = await client().request(`mutation { ${guesses(36, 12)} }`);
    expect(fourth.errors!.map((e) => e.extensions!.code)).toEqual(['RATE_LIMITED']);
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.sign_in_failed')).toHaveLength(3);
  });

  test('X-Forwarded-For from a client that is not a configured proxy is ignored', async () => {
    const direct = await startVigil();
    try {
      const owner = await signUpTenant(direct.client());
      const codes = [];
      for (let i = 0; i < 4; i++) {
        const spoofing = direct.client();
        spoofing.extraHeaders['x-forwarded-for'] = `203.0.113.${i}`;
        codes.push(errorCode(await signIn(spoofing, { tenantSlug: owner.slug, email: owner.email, password: 'wrong password x' })));
      }
      expect(codes[3]).toBe('RATE_LIMITED');
      const failures = (await auditRows(direct, owner.tenantId)).filter((r) => r.action === 'session.sign_in_failed');
      expect(failures.map((f) => f.ip)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    } finally {
      await direct.stop();
    }
  });
});

describe('a lock cannot keep the owner out', () => {
  test('the owner signs in from a known device while an attacker keeps the account locked', async () => {
    const browser = client();
    const owner = await signUpTenant(browser);
    browser.cookies.delete('vigil_device');
    expect(browser.cookies.get('vigil_device')).toBeUndefined();
    await signIn(browser, { tenantSlug: owner.slug, email: owner.email });
    expect(browser.cookies.get('vigil_device')).toBeDefined();
    await failUntilLocked(owner.slug, owner.email);
    expect(errorCode(await signIn(client(), { tenantSlug: owner.slug, email: owner.email }))).toBe('RATE_LIMITED');
    const fromKnownDevice = await signIn(browser, { tenantSlug: owner.slug, email: owner.email });
    expect(fromKnownDevice.errors).toBeUndefined();
  });

  test('an administrator unlocks an account early', async () => {
    const owner = await signUpTenant(client());
    const employee = await inviteEmployee(bearerClient(vigil, owner.token), 'Employee');
    await failUntilLocked(owner.slug, employee.email);
    expect(errorCode(await signIn(client(), { tenantSlug: owner.slug, email: employee.email }))).toBe('RATE_LIMITED');
    const admin = bearerClient(vigil, owner.token);
    const lockedUntil = async () => (await admin.ok('query($u: ID!) { user(id: $u) { lockedUntil } }', { u: employee.userId })).user.lockedUntil;
    expect(new Date(await lockedUntil()).getTime()).toBeGreaterThan(vigil.clock.now().getTime());
    await admin.ok('mutation($u: ID!) { unlockUser(userId: $u) { id lockedUntil } }', { u: employee.userId });
    expect(await lockedUntil()).toBeNull();
    expect((await signIn(client(), { tenantSlug: owner.slug, email: employee.email })).errors).toBeUndefined();
    expect((await auditRows(vigil, owner.tenantId)).map((r) => r.action)).toContain('user.unlocked');
  });
});

describe('new devices', () => {
  test('a sign-in from a device and address never seen is journalled; the same device again is not', async () => {
    const owner = await signUpTenant(client());
    const laptop = client('Firefox on a new laptop');
    await signIn(laptop, { tenantSlug: owner.slug, email: owner.email });
    await signIn(laptop, { tenantSlug: owner.slug, email: owner.email });
    const sameAgentNoCookie = client('Firefox on a new laptop');
    await signIn(sameAgentNoCookie, { tenantSlug: owner.slug, email: owner.email });
    const newDevices = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.new_device');
    expect(newDevices).toHaveLength(1);
    expect(newDevices[0].user_agent).toBe('Firefox on a new laptop');
  });
});

test('the sign-in payload keeps the contract of the foundation', async () => {
  const owner = await signUpTenant(client());
  const result = await client().request(`mutation { signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "${STRONG_PASSWORD}" }) { ${AUTH_FIELDS} } }`);
  expect(Object.keys(result.data!.signIn).sort()).toEqual(['session', 'tenant', 'token', 'user']);
});

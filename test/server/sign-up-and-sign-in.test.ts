import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { errorCode } from '../support/client.ts';
import { AUTH_FIELDS, STRONG_PASSWORD, signIn, signUpTenant, uniqueSlug } from '../support/factories.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;
const VIEWER = '{ viewer { user { id email displayName role { name isOwner } } tenant { id slug name } session { id current } } }';

function signUpInput(overrides: Record<string, string> = {}) {
  return { tenantName: 'Globex', tenantSlug: uniqueSlug('globex'), email: 'boss@globex.test', password: STRONG_PASSWORD, displayName: 'Hank', ...overrides };
}

describe('the account lifecycle', () => {
  test('sign-up, sign-in, viewer, sign-out, then the viewer is null', async () => {
    const browser = vigil.client();
    const owner = await signUpTenant(browser);
    const afterSignUp = await browser.ok(VIEWER);
    expect(afterSignUp.viewer.user).toMatchObject({ id: owner.userId, email: owner.email, role: { name: 'Owner', isOwner: true } });
    expect(afterSignUp.viewer.session).toEqual({ id: owner.sessionId, current: true });

    const app = vigil.client();
    const signedIn = await signIn(app, { tenantSlug: owner.slug, email: owner.email });
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data!.signIn.session.id).not.toBe(owner.sessionId);
    app.bearer = signedIn.data!.signIn.token;
    expect((await app.ok(VIEWER)).viewer.tenant).toEqual({ id: owner.tenantId, slug: owner.slug, name: 'Acme Corp' });

    expect(await app.ok('mutation { signOut }')).toEqual({ signOut: true });
    expect(await app.ok(VIEWER)).toEqual({ viewer: null });
    // Only that session ended: the browser's is still alive.
    expect((await browser.ok(VIEWER)).viewer.user.id).toBe(owner.userId);
  });

  test('the sign-in email is matched case-insensitively and the slug too', async () => {
    const owner = await signUpTenant(vigil.client(), { email: 'Mixed.Case@Acme.test' });
    expect(owner.email).toBe('Mixed.Case@Acme.test');
    const result = await signIn(vigil.client(), { tenantSlug: owner.slug.toUpperCase(), email: 'MIXED.case@acme.TEST' });
    expect(result.errors).toBeUndefined();
  });
});

describe('failed sign-ins are indistinguishable', () => {
  test('wrong password, unknown email and unknown tenant give the same error', async () => {
    const owner = await signUpTenant(vigil.client());
    const attempts = [
      { tenantSlug: owner.slug, email: owner.email, password: 'wrong password here' },
      { tenantSlug: owner.slug, email: 'nobody@acme.test' },
      { tenantSlug: uniqueSlug('nowhere'), email: owner.email },
    ];
    const responses = [];
    for (const attempt of attempts) {
      const result = await signIn(vigil.client(), attempt);
      responses.push({ status: result.status, data: result.data, errors: result.errors });
    }
    expect(responses[0].errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    expect(responses[1]).toEqual(responses[0]);
    expect(responses[2]).toEqual(responses[0]);
  });

  test('every kind of failure costs exactly one argon2 verification, like a wrong password', async () => {
    const owner = await signUpTenant(vigil.client());
    const disabledEmail = 'gone@acme.test';
    const verificationsFor = async (input: { tenantSlug: string; email: string; password?: string }) => {
      const before = vigil.services.hasher.verifications;
      await signIn(vigil.client(), input);
      return vigil.services.hasher.verifications - before;
    };
    expect(await verificationsFor({ tenantSlug: owner.slug, email: owner.email, password: 'wrong password here' })).toBe(1);
    expect(await verificationsFor({ tenantSlug: owner.slug, email: disabledEmail })).toBe(1);
    expect(await verificationsFor({ tenantSlug: uniqueSlug('nowhere'), email: owner.email })).toBe(1);
    expect(await verificationsFor({ tenantSlug: owner.slug, email: owner.email })).toBe(1);
  });

  test('each failure is journalled; an unknown tenant in the platform journal', async () => {
    const owner = await signUpTenant(vigil.client());
    const slug = uniqueSlug('ghost');
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'not the password' });
    await signIn(vigil.client(), { tenantSlug: slug, email: 'who@ghost.test' });
    const failures = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'session.sign_in_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ outcome: 'failure', actor_id: owner.userId, target_id: owner.userId });
    expect(failures[0].details).toEqual({ email: owner.email, reason: 'wrong_password' });
    const platform = (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((r) => r.details.tenantSlug === slug);
    expect(platform).toHaveLength(1);
    expect(platform[0]).toMatchObject({ action: 'session.sign_in_failed', actor_id: null });
    expect(JSON.stringify(platform[0])).not.toContain(STRONG_PASSWORD);
  });
});

describe('sign-up input', () => {
  test('a taken slug is a CONFLICT and writes nothing', async () => {
    const owner = await signUpTenant(vigil.client());
    const before = await countRows();
    const result = await vigil.client().request(SIGN_UP, { input: signUpInput({ tenantSlug: owner.slug }) });
    expect(errorCode(result)).toBe('CONFLICT');
    expect(await countRows()).toEqual(before);
  });

  test.each([
    ['an empty company name', { tenantName: '' }, 'tenantName'],
    ['a too long company name', { tenantName: 'x'.repeat(201) }, 'tenantName'],
    ['a malformed slug', { tenantSlug: 'Not A Slug!' }, 'tenantSlug'],
    ['a malformed email', { email: 'not-an-email' }, 'email'],
    ['a too long email', { email: `${'a'.repeat(250)}@x.io` }, 'email'],
    ['an empty display name', { displayName: '   ' }, 'displayName'],
    ['a short password', { password: 'short pass' }, 'password'],
    ['a common password', { password: 'qwerty123456' }, 'password'],
    ['a too long password', { password: 'x'.repeat(257) }, 'password'],
  ])('%s is BAD_USER_INPUT naming the field, and writes nothing', async (_name, override, field) => {
    const before = await countRows();
    const result = await vigil.client().request(SIGN_UP, { input: signUpInput(override) });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0].extensions!.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(result.headers.getSetCookie()).toEqual([]);
    expect(await countRows()).toEqual(before);
  });

  test('a password of 12 characters counted in code points is accepted', async () => {
    const result = await vigil.client().request(SIGN_UP, { input: signUpInput({ password: '🔐🔐🔐🔐🔐🔐 ключ-пароль' }) });
    expect(result.errors).toBeUndefined();
  });
});

async function countRows() {
  return asOwner(vigil, async (query) => {
    const [row] = await query<Record<string, string | number>>(
      'select (select count(*) from tenant)::int as tenants, (select count(*) from app_user)::int as users, (select count(*) from session)::int as sessions, (select count(*) from audit_event)::int as events',
    );
    return row;
  });
}

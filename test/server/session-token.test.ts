import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GraphQLClient } from '../support/client.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { asOwner, databaseContains } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const VIEWER = '{ viewer { user { id } } }';

describe('the session token', () => {
  test('is <sessionId>.<256-bit secret> and only its SHA-256 is stored', async () => {
    const client = vigil.client();
    const owner = await signUpTenant(client);
    const [sessionId, secret] = owner.token.split('.');
    expect(sessionId).toBe(owner.sessionId);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(await databaseContains(vigil, secret)).toBe(false);
    expect(await databaseContains(vigil, owner.token)).toBe(false);
    const { createHash } = await import('node:crypto');
    const [row] = await asOwner(vigil, (q) => q<{ secret_hash: string }>('select secret_hash from session where id = $1', [sessionId]));
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
  });

  test('the cookie has exactly the required attributes over plain HTTP', async () => {
    const owner = await signUpTenant(vigil.client());
    const response = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('vigil_session='))!;
    expect(cookie.split('; ')[0]).toBe(`vigil_session=${response.data!.signIn.token}`);
    expect(attributesOf(cookie)).toEqual(['HttpOnly', 'Max-Age=<n>', 'Path=/', 'SameSite=Lax']);
  });

  test('behind a trusted TLS proxy the cookie is __Host- prefixed and Secure, and only that name is read', async () => {
    const tls = await startVigil({ env: { TRUSTED_PROXIES: 'loopback' } });
    try {
      const owner = await signUpTenant(httpsClient(tls.url));
      const response = await signIn(httpsClient(tls.url), { tenantSlug: owner.slug, email: owner.email });
      const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-vigil_session='))!;
      expect(attributesOf(cookie)).toEqual(['HttpOnly', 'Max-Age=<n>', 'Path=/', 'SameSite=Lax', 'Secure']);
      const token = response.data!.signIn.token;
      const prefixed = httpsClient(tls.url);
      prefixed.cookies.set('__Host-vigil_session', token);
      expect((await prefixed.ok(VIEWER)).viewer.user.id).toBe(owner.userId);
      const unprefixed = httpsClient(tls.url);
      unprefixed.cookies.set('vigil_session', token);
      expect((await unprefixed.ok(VIEWER)).viewer).toBeNull();
    } finally {
      await tls.stop();
    }
  });

  test('X-Forwarded-Proto from an untrusted peer is ignored', async () => {
    const client = httpsClient(vigil.url);
    await signUpTenant(client);
    expect([...client.cookies.keys()]).toContain('vigil_session');
    expect([...client.cookies.keys()]).not.toContain('__Host-vigil_session');
  });

  test('a bearer token works without cookies', async () => {
    const owner = await signUpTenant(vigil.client());
    const app = vigil.client();
    app.bearer = owner.token;
    expect((await app.ok(VIEWER)).viewer.user.id).toBe(owner.userId);
  });
});

describe('forged and misplaced tokens', () => {
  test('a forged or unknown token is anonymous and creates nothing', async () => {
    const owner = await signUpTenant(vigil.client());
    const sessionsBefore = await countSessions();
    const forgeries = [
      `${owner.sessionId}.${'A'.repeat(43)}`,
      `${crypto.randomUUID()}.${owner.token.split('.')[1]}`,
      'not-a-token',
      `${owner.token}x`,
    ];
    for (const forged of forgeries) {
      const byHeader = vigil.client();
      byHeader.bearer = forged;
      expect((await byHeader.ok(VIEWER)).viewer).toBeNull();
      const byCookie = vigil.client();
      byCookie.cookies.set('vigil_session', forged);
      const response = await byCookie.request(VIEWER);
      expect(response.data?.viewer).toBeNull();
      expect(response.headers.getSetCookie().join()).toMatch(/vigil_session=;.*Max-Age=0/);
    }
    expect(await countSessions()).toBe(sessionsBefore);
    // The real session is untouched by the forgeries.
    const real = vigil.client();
    real.bearer = owner.token;
    expect((await real.ok(VIEWER)).viewer.user.id).toBe(owner.userId);
  });

  test('a token in the URL is refused, even a valid one', async () => {
    const owner = await signUpTenant(vigil.client());
    for (const param of ['token', 'access_token', 'vigil_session', 'api_key']) {
      const url = `${vigil.url}/graphql?${param}=${encodeURIComponent(owner.token)}&query=${encodeURIComponent(VIEWER)}`;
      const response = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(body)).not.toContain(owner.token);
    }
  });
});

async function countSessions(): Promise<number> {
  return asOwner(vigil, async (q) => Number((await q<{ n: number }>('select count(*)::int as n from session'))[0].n));
}

function httpsClient(url: string): GraphQLClient {
  const client = new GraphQLClient(url);
  client.extraHeaders['x-forwarded-proto'] = 'https';
  return client;
}

/** Cookie attributes, sorted, with the Max-Age value generalised. */
function attributesOf(setCookie: string): string[] {
  return setCookie
    .split('; ')
    .slice(1)
    .map((a) => a.replace(/^Max-Age=\d+$/, 'Max-Age=<n>'))
    .sort();
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeKeySet } from '../../server/src/server-keys.ts';
import { errorCode } from '../support/client.ts';
import { signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
let production: TestVigil;
beforeAll(async () => {
  // Production refuses plain HTTP: here TLS ends at a proxy on loopback, which says so in X-Forwarded-Proto.
  // Production starts only with its keys, given as a deployment gives them.
  const keys = writeKeySet(join(mkdtempSync(join(tmpdir(), 'vigil-hardening-')), 'keys'));
  [vigil, production] = await Promise.all([startVigil(), startVigil({ env: { NODE_ENV: 'production', TRUSTED_PROXIES: 'loopback', PROXY_TERMINATES_TLS: 'true', ...keys } })]);
});
afterAll(async () => Promise.all([vigil?.stop(), production?.stop()]));

const FROM_TLS_PROXY = { 'x-forwarded-proto': 'https' };

function productionClient() {
  const client = production.client();
  client.extraHeaders = FROM_TLS_PROXY;
  return client;
}

// Sessions know their user and users their sessions: a cycle a hostile query could nest without end.
const TOO_DEEP = '{ viewer { user { sessions { user { sessions { user { sessions { user { sessions { user { sessions { id } } } } } } } } } } } }';

describe('CSRF', () => {
  test('a simple cross-site request without the CSRF header is refused', async () => {
    const form = await fetch(`${vigil.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=mutation%20%7B%20signOut%20%7D',
    });
    expect(form.status).toBe(403);
    const get = await fetch(`${vigil.url}/graphql?query=${encodeURIComponent('{ viewer { user { id } } }')}`);
    expect(get.status).toBe(403);
  });

  test('a mutation over GET is refused even with the header', async () => {
    const response = await fetch(`${vigil.url}/graphql?query=${encodeURIComponent('mutation { signOut }')}`, {
      headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' },
    });
    expect(response.status).toBe(405);
  });

  test('CORS never grants a foreign origin, with credentials or not', async () => {
    const response = await fetch(`${vigil.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(response.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

describe('query limits', () => {
  test('batching is off', async () => {
    const response = await fetch(`${vigil.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ viewer { user { id } } }' }, { query: '{ viewer { user { id } } }' }]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  test('too deep a query is refused with BAD_USER_INPUT', async () => {
    const client = vigil.client();
    await signUpTenant(client);
    const result = await client.request(TOO_DEEP);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.data).toBeNull();
  });

  test('too many aliases are refused', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: viewer { isOwner }`).join(' ');
    const result = await vigil.client().request(`{ ${aliases} }`);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0].message).toMatch(/alias/i);
  });

  test('field suggestions do not leak the schema', async () => {
    const result = await productionClient().request('{ viewr { user { id } } }');
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result.errors)).not.toMatch(/Did you mean/);
  });
});

describe('production mode', () => {
  test('introspection and GraphiQL are off', async () => {
    const result = await productionClient().request('{ __schema { queryType { name } } }');
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html', ...FROM_TLS_PROXY } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });

  test('introspection works in development, where the schema is documentation', async () => {
    const result = await vigil.client().request('{ __schema { queryType { name } } }');
    expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

describe('responses', () => {
  test('are never cached and carry the security headers', async () => {
    const client = vigil.client();
    await signUpTenant(client);
    const response = await client.request('{ viewer { user { id } } }');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  test('an anonymous call to a protected field is UNAUTHENTICATED', async () => {
    const result = await vigil.client().request('{ auditEvents(first: 1) { edges { cursor } } }');
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });
});

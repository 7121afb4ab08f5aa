import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, signUpTenant, uniqueSlug } from '../support/factories.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** The four holes found from outside: CORS with an opaque origin, credentials in a WebSocket URL, malformed text, parser internals. */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil({ env: { ALLOWED_ORIGINS: 'https://app.example,https://admin.example' } });
});
afterAll(async () => vigil?.stop());

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-expose-headers'];

async function corsOf(origin: string, method: 'OPTIONS' | 'POST') {
  const headers: Record<string, string> = { origin, 'content-type': 'application/json' };
  if (method === 'OPTIONS') headers['access-control-request-method'] = 'POST';
  const response = await fetch(`${vigil.url}/graphql`, { method, headers, body: method === 'POST' ? JSON.stringify({ query: '{ viewer { isOwner } }' }) : undefined });
  return Object.fromEntries(CORS_HEADERS.map((name) => [name, response.headers.get(name)]).filter(([, value]) => value !== null));
}

describe('CORS', () => {
  test('the opaque origin "null" (sandboxed frames, data: documents) gets no CORS header at all', async () => {
    expect(await corsOf('null', 'OPTIONS')).toEqual({});
    expect(await corsOf('null', 'POST')).toEqual({});
  });

  test('an origin outside ALLOWED_ORIGINS gets none either', async () => {
    expect(await corsOf('https://evil.example', 'OPTIONS')).toEqual({});
    expect(await corsOf('https://evil.example', 'POST')).toEqual({});
  });

  test('an allowed origin is echoed exactly, with credentials', async () => {
    for (const origin of ['https://app.example', 'https://admin.example']) {
      expect(await corsOf(origin, 'POST')).toMatchObject({ 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' });
    }
  });
});

/** The raw answer to an upgrade request: whatever the server sends before (or instead of) switching protocols. */
function upgrade(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(vigil.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'graphql-transport-ws' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('credentials in a WebSocket URL', () => {
  test('are refused with 400 before the upgrade, exactly as over HTTP', async () => {
    expect((await upgrade('/graphql')).status).toBe(101);
    for (const path of ['/graphql?token=abc', '/graphql?api_key=x', '/graphql?x=vgl_abc_def', '/graphql?Authorization=Bearer%20x']) {
      const overWebSocket = await upgrade(path);
      const overHttp = await fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      expect({ path, status: overWebSocket.status, body: JSON.parse(overWebSocket.body) }).toEqual({ path, status: overHttp.status, body: await overHttp.json() });
      expect(overWebSocket.status).toBe(400);
    }
  });
});

const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { token } }';
const HOSTILE = {
  nul: 'a\u0000b',
  loneSurrogate: 'a\ud800b',
  control: 'line\u001bone',
  bidi: 'invoice\u202Efdp.exe',
  isolate: 'name\u2066x\u2069',
};

describe('malformed text', () => {
  test('a sign-in with a NUL or a lone surrogate is BAD_USER_INPUT naming the field, and is in the journal, hash chain intact', async () => {
    const owner = await signUpTenant(vigil.client());
    for (const [field, value] of [['email', `x${HOSTILE.nul}@acme.test`], ['password', `pass${HOSTILE.loneSurrogate}word-long`], ['email', `x${HOSTILE.loneSurrogate}@acme.test`]] as const) {
      const input = { tenantSlug: owner.slug, email: owner.email, password: STRONG_PASSWORD, [field]: value };
      const result = await vigil.client().request(SIGN_IN, { i: input });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(result.errors![0].extensions!.fields).toEqual([{ field: `input.${field}`, message: expect.any(String) }]);
    }
    const failures = (await auditRows(vigil, owner.tenantId)).filter((row) => row.action === 'session.sign_in_failed');
    expect(failures.map((row) => row.details)).toEqual([
      { email: 'xa\uFFFDb@acme.test', reason: 'malformed_input', fields: ['email'] },
      { email: owner.email, reason: 'malformed_input', fields: ['password'] },
      { email: 'xa\uFFFDb@acme.test', reason: 'malformed_input', fields: ['email'] },
    ]);
    expect((await bearerClient(vigil, owner.token).ok('{ verifyAuditChain { ok } }')).verifyAuditChain.ok).toBe(true);
  });

  test('a malformed company address goes to the platform journal, cut to a bounded length', async () => {
    const slug = `${'z'.repeat(2000)}${HOSTILE.nul}`;
    const result = await vigil.client().request(SIGN_IN, { i: { tenantSlug: slug, email: 'who@acme.test', password: STRONG_PASSWORD } });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    const platform = (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((row) => row.details.reason === 'malformed_input' && row.details.email === 'who@acme.test');
    expect(platform).toHaveLength(1);
    expect(platform[0].details.tenantSlug).toBe(`${'z'.repeat(1024)}…`);
  });

  test('names shown to people refuse direction overrides and isolates; nothing is written', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    const countOf = async (table: string) => Number((await asOwner(vigil, (q) => q(`select count(*)::int as n from ${table} where tenant_id = $1`, [owner.tenantId])))[0].n);
    const before = { role: await countOf('role'), api_key: await countOf('api_key'), audit_event: await countOf('audit_event') };
    const attempts: Array<[string, Record<string, unknown>, string]> = [
      ['mutation($i: RoleInput!) { createRole(input: $i) { id } }', { i: { name: HOSTILE.bidi, permissions: [] } }, 'name'],
      ['mutation($i: RoleInput!) { createRole(input: $i) { id } }', { i: { name: HOSTILE.isolate, permissions: [] } }, 'name'],
      ['mutation($i: RoleInput!) { createRole(input: $i) { id } }', { i: { name: 'Auditors', description: HOSTILE.nul, permissions: [] } }, 'input.description'],
      ['mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: { name: HOSTILE.bidi, permissions: [] } }, 'name'],
      ['mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: { name: HOSTILE.control, permissions: [] } }, 'input.name'],
      ['query($f: AuditEventFilter) { auditEvents(first: 5, filter: $f) { edges { cursor } } }', { f: { actions: [HOSTILE.loneSurrogate] } }, 'filter.actions.0'],
    ];
    for (const [query, variables, field] of attempts) {
      const result = await client.request(query, variables);
      expect({ query, code: errorCode(result) }).toEqual({ query, code: 'BAD_USER_INPUT' });
      expect(result.errors![0].extensions!.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    const signUp = await vigil.client().request('mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
      i: { tenantName: HOSTILE.bidi, tenantSlug: uniqueSlug(), email: 'o@acme.test', password: STRONG_PASSWORD, displayName: 'Olga' },
    });
    expect(signUp.errors![0].extensions!.fields).toEqual([{ field: 'tenantName', message: expect.stringMatching(/direction overrides/) }]);
    expect({ role: await countOf('role'), api_key: await countOf('api_key'), audit_event: await countOf('audit_event') }).toEqual(before);
  });

  test('an argument checked before the caller is known answers UNAUTHENTICATED first: the input of a field one may not call is not inspected', async () => {
    const result = await vigil.client().request('query($f: AuditEventFilter) { auditEvents(first: 5, filter: $f) { edges { cursor } } }', { f: { actions: [HOSTILE.nul] } });
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });
});

describe('parser internals', () => {
  test('a body that is not JSON gets a fixed message, nothing of the parser or the body', async () => {
    const body = '{"query": "{ viewer { isOwner } }", "secret-looking": tok_123';
    const response = await fetch(`${vigil.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await response.json()).toEqual({ errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_USER_INPUT' } }] });
  });
});

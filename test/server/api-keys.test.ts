import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateAgedApiKeys } from '../../server/src/api-keys/rotation-job.ts';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, inviteEmployee, signUpTenant } from '../support/factories.ts';
import { collect, liveClient } from '../support/live.ts';
import { asOwner, auditRows, databaseContains } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const CREATE = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id name prefix permissions expiresAt status } secret } }';
const WHO = '{ viewer { user { id } apiKeyId session { id } permissions } }';

async function setup(permissions: string[] = ['audit.read']) {
  const owner = await signUpTenant(vigil.client());
  const client = bearerClient(vigil, owner.token);
  const created = (await client.ok(CREATE, { i: { name: 'CRM sync', permissions } })).createApiKey;
  return { owner, client, key: created.key, secret: created.secret as string };
}

const releaseLease = () => asOwner(vigil, (q) => q('update scheduled_job set leased_until = null'));

describe('creating a key', () => {
  test('the secret is shown once, as vgl_<id>_<secret>, and only its hash is kept', async () => {
    const { owner, client, key, secret } = await setup();
    expect(secret).toMatch(/^vgl_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(key.prefix)).toBe(true);
    expect(Buffer.from(secret.slice(-43), 'base64url')).toHaveLength(32);
    expect(await databaseContains(vigil, secret.slice(-43))).toBe(false);
    expect(JSON.stringify(await auditRows(vigil, owner.tenantId))).not.toContain(secret.slice(-43));
    const listed = await client.request('{ apiKeys { id name prefix permissions status } }');
    expect(JSON.stringify(listed)).not.toContain(secret.slice(-43));
    expect(listed.data!.apiKeys).toEqual([{ id: key.id, name: 'CRM sync', prefix: key.prefix, permissions: ['audit.read'], status: 'ACTIVE' }]);
    expect((await auditRows(vigil, owner.tenantId)).map((r) => r.action)).toContain('api_key.created');
  });

  test('a key holds a subset of its creator’s permissions', async () => {
    const owner = await signUpTenant(vigil.client());
    const employee = await inviteEmployee(bearerClient(vigil, owner.token), 'Employee');
    expect(errorCode(await employee.client.request(CREATE, { i: { name: 'x', permissions: ['audit.read'] } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await employee.client.request(CREATE, { i: { name: 'x', permissions: ['no.such.thing'] } }))).toBe('BAD_USER_INPUT');
    expect((await employee.client.request(CREATE, { i: { name: 'x', permissions: ['api_keys.manage_own'] } })).errors).toBeUndefined();
  });
});

describe('using a key', () => {
  test('authenticates HTTP by Authorization: Bearer and by X-Api-Key, and records when and where it was last used', async () => {
    const { owner, secret, key, client } = await setup();
    const viaBearer = await bearerClient(vigil, secret).ok(WHO);
    expect(viaBearer.viewer).toEqual({ user: { id: owner.userId }, apiKeyId: key.id, session: null, permissions: ['audit.read'] });
    const viaHeader = vigil.client();
    viaHeader.extraHeaders['x-api-key'] = secret;
    expect((await viaHeader.ok(WHO)).viewer.apiKeyId).toBe(key.id);
    const [listed] = (await client.ok('{ apiKeys { lastUsedAt lastUsedIp } }')).apiKeys;
    expect(listed.lastUsedIp).toBe('127.0.0.1');
    expect(listed.lastUsedAt).not.toBeNull();
  });

  test('authenticates a WebSocket through connectionParams', async () => {
    const { owner, secret } = await setup(['audit.read']);
    const live = liveClient(vigil.url, { apiKey: secret });
    const feed = collect<{ auditEvents: { action: string } }>(live, 'subscription { auditEvents(afterSeq: 0) { action } }');
    await feed.until((items) => items.some((i) => i.auditEvents.action === 'tenant.created'));
    await live.dispose();
    expect((await auditRows(vigil, owner.tenantId)).find((r) => r.action === 'audit.stream_opened')!.details).toMatchObject({ apiKeyId: expect.any(String) });
  });

  test('a field outside its scope is FORBIDDEN, and the denial is journalled', async () => {
    const { owner, secret } = await setup(['audit.read']);
    const result = await bearerClient(vigil, secret).request('{ users { id } }');
    expect(errorCode(result)).toBe('FORBIDDEN');
    const denied = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'access.denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actor_type: 'api_key', target_type: 'api_key', details: { field: 'Query.users', missing: ['users.read'] } });
  });

  test('cannot sign in, create a session, or create, rotate or reveal keys', async () => {
    const { owner, secret, key } = await setup(['api_keys.manage_own', 'audit.read']);
    const asKey = bearerClient(vigil, secret);
    expect(errorCode(await asKey.request(CREATE, { i: { name: 'child', permissions: [] } }))).toBe('FORBIDDEN');
    expect(errorCode(await asKey.request('mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id: key.id }))).toBe('FORBIDDEN');
    expect(errorCode(await asKey.request('mutation($id: ID!) { revealRotatedApiKey(id: $id) { secret } }', { id: key.id }))).toBe('FORBIDDEN');
    expect(errorCode(await asKey.request('mutation { revokeOtherSessions }'))).toBe('FORBIDDEN');
    const signIn = await asKey.request(`mutation { signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "${secret}" }) { token } }`);
    expect(errorCode(signIn)).toBe('INVALID_CREDENTIALS');
    const sessions = await asOwner(vigil, (q) => q('select id from session where tenant_id = $1', [owner.tenantId]));
    expect(sessions).toHaveLength(1);
  });

  test('?api_key= in a URL is refused, even for a valid key', async () => {
    const { secret } = await setup();
    const response = await fetch(`${vigil.url}/graphql?api_key=${secret}&query=${encodeURIComponent('{ viewer { apiKeyId } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('keys follow their creator', () => {
  test('a permission the creator loses is lost by the key at once', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const role = (await ownerClient.ok('mutation { createRole(input: { name: "Auditors", permissions: ["audit.read", "api_keys.manage_own"] }) { id name } }')).createRole;
    const auditor = await inviteEmployee(ownerClient, role.name);
    const secret = (await auditor.client.ok(CREATE, { i: { name: 'siem', permissions: ['audit.read'] } })).createApiKey.secret;
    expect((await bearerClient(vigil, secret).request('{ auditEvents(first: 1) { edges { cursor } } }')).errors).toBeUndefined();
    await ownerClient.ok('mutation($id: ID!) { updateRole(id: $id, input: { permissions: ["api_keys.manage_own"] }) { id } }', { id: role.id });
    expect(errorCode(await bearerClient(vigil, secret).request('{ auditEvents(first: 1) { edges { cursor } } }'))).toBe('FORBIDDEN');
  });

  test('a disabled creator’s keys stop working', async () => {
    const owner = await signUpTenant(vigil.client());
    const ownerClient = bearerClient(vigil, owner.token);
    const employee = await inviteEmployee(ownerClient, 'Employee');
    const secret = (await employee.client.ok(CREATE, { i: { name: 'mine', permissions: [] } })).createApiKey.secret;
    await ownerClient.ok('mutation($u: ID!) { disableUser(userId: $u) { id } }', { u: employee.userId });
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'api_key.revoked').map((r) => r.details.reason)).toEqual(['user_disabled']);
  });

  test('a password change rotates every key of the user at once, with no grace', async () => {
    const { owner, client, secret, key } = await setup();
    const second = (await client.ok(CREATE, { i: { name: 'second', permissions: [] } })).createApiKey;
    await client.ok('mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }', { i: { currentPassword: STRONG_PASSWORD, newPassword: 'another good passphrase' } });
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    expect((await bearerClient(vigil, second.secret).ok(WHO)).viewer).toBeNull();
    const owned = bearerClient(vigil, (await vigil.client().ok(`mutation { signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "another good passphrase" }) { token } }`)).signIn.token);
    const keys = (await owned.ok('{ apiKeys { id rotatedFromId status awaitingReveal } }')).apiKeys;
    const successor = keys.find((k: any) => k.rotatedFromId === key.id);
    expect(successor).toMatchObject({ status: 'ACTIVE', awaitingReveal: true });
    const reveal = (await owned.ok('mutation($id: ID!) { revealRotatedApiKey(id: $id) { secret key { id owner { email } } } }', { id: successor.id })).revealRotatedApiKey;
    expect(reveal.key).toEqual({ id: successor.id, owner: { email: owner.email } });
    const revealed = reveal.secret;
    expect((await bearerClient(vigil, revealed).ok(WHO)).viewer.apiKeyId).toBe(successor.id);
    expect(errorCode(await owned.request('mutation($id: ID!) { revealRotatedApiKey(id: $id) { secret } }', { id: successor.id }))).toBe('NOT_FOUND');
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'api_key.auto_rotated').map((r) => r.details.reason)).toEqual(['password_changed', 'password_changed']);
  });
});

describe('rotation and revocation', () => {
  const ROTATE = 'mutation($id: ID!, $g: Int) { rotateApiKey(id: $id, graceSeconds: $g) { key { id rotatedFromId } secret } }';

  test('without grace the old secret stops at once', async () => {
    const { client, key, secret } = await setup();
    const rotated = (await client.ok(ROTATE, { id: key.id })).rotateApiKey;
    expect(rotated.key.rotatedFromId).toBe(key.id);
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    expect((await bearerClient(vigil, rotated.secret).ok(WHO)).viewer.apiKeyId).toBe(rotated.key.id);
  });

  test('with grace the old secret works until the grace ends, then its use is journalled', async () => {
    const { owner, client, key, secret } = await setup();
    expect(errorCode(await client.request(ROTATE, { id: key.id, g: 86_401 }))).toBe('BAD_USER_INPUT');
    await client.ok(ROTATE, { id: key.id, g: 600 });
    vigil.clock.advance(599);
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer.apiKeyId).toBe(key.id);
    vigil.clock.advance(2);
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    const used = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'api_key.used_after_revocation');
    expect(used).toHaveLength(1);
    expect(used[0]).toMatchObject({ ip: '127.0.0.1', target_id: key.id, outcome: 'denied' });
    expect(errorCode(await client.request(ROTATE, { id: key.id }))).toBe('CONFLICT');
  });

  test('revocation is immediate', async () => {
    const { owner, client, key, secret } = await setup();
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).not.toBeNull();
    await client.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id status } }', { id: key.id });
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    expect((await auditRows(vigil, owner.tenantId)).map((r) => r.action)).toEqual(expect.arrayContaining(['api_key.revoked', 'api_key.used_after_revocation']));
  });
});

describe('automatic rotation after the maximum age', () => {
  test('a key older than six months is rotated once, even by two instances; its owner reveals the new secret once', async () => {
    const { owner, client, key, secret } = await setup();
    // Instances of one deployment share the server keys (VIGIL_HOME/secrets): whichever rotates, the other decrypts.
    const other = await startVigil({ shareWith: vigil, clock: vigil.clock, env: { VIGIL_HOME: dirname(vigil.config.secretsDir) } });
    try {
      await releaseLease();
      expect(await rotateAgedApiKeys(vigil.services, 60)).toBe(0);
      vigil.clock.advance(182 * 86_400 + 1);
      await releaseLease();
      const counts = await Promise.all([rotateAgedApiKeys(vigil.services, 60), rotateAgedApiKeys(other.services, 60)]);
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      await releaseLease();
      await Promise.all([rotateAgedApiKeys(vigil.services, 60), rotateAgedApiKeys(other.services, 60)]);
    } finally {
      await other.stop();
    }
    const rotations = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'api_key.auto_rotated' && r.target_id === key.id);
    expect(rotations).toHaveLength(1);
    expect(rotations[0].details).toMatchObject({ reason: 'max_age', ownerId: owner.userId });
    // The old secret works through a day of grace, so integrations can switch.
    const fresh = bearerClient(vigil, (await vigil.client().ok(`mutation { signIn(input: { tenantSlug: "${owner.slug}", email: "${owner.email}", password: "${STRONG_PASSWORD}" }) { token } }`)).signIn.token);
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer?.apiKeyId).toBe(key.id);
    const successor = (await fresh.ok('{ apiKeys { id rotatedFromId awaitingReveal } }')).apiKeys.find((k: any) => k.rotatedFromId === key.id);
    expect(successor.awaitingReveal).toBe(true);
    const revealed = (await fresh.ok('mutation($id: ID!) { revealRotatedApiKey(id: $id) { secret } }', { id: successor.id })).revealRotatedApiKey.secret;
    expect((await bearerClient(vigil, revealed).ok(WHO)).viewer.apiKeyId).toBe(successor.id);
    vigil.clock.advance(86_401);
    expect((await bearerClient(vigil, secret).ok(WHO)).viewer).toBeNull();
    void client;
  });

  test('the owner sets the maximum age within bounds', async () => {
    const { client } = await setup();
    expect(errorCode(await client.request('mutation { updateApiKeyPolicy(input: { maxAgeDays: 0 }) { apiKeyMaxAgeDays } }'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await client.request('mutation { updateApiKeyPolicy(input: { maxAgeDays: 4000 }) { apiKeyMaxAgeDays } }'))).toBe('BAD_USER_INPUT');
    expect(await client.ok('mutation { updateApiKeyPolicy(input: { maxAgeDays: 90 }) { apiKeyMaxAgeDays } }')).toEqual({ updateApiKeyPolicy: { apiKeyMaxAgeDays: 90 } });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pruneIdempotencyKeys } from '../../server/src/idempotency/idempotency.ts';
import { type GraphQLClient, errorCode } from '../support/client.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const CREATE_ROLE = 'mutation($n: String!) { createRole(input: { name: $n, permissions: ["audit.read"] }) { id name } }';

function withKey(client: GraphQLClient, key: string): GraphQLClient {
  client.extraHeaders['idempotency-key'] = key;
  return client;
}

async function owner() {
  const signedUp = await signUpTenant(vigil.client());
  return { ...signedUp, client: bearerClient(vigil, signedUp.token) };
}

const rolesNamed = async (tenantId: string, name: string) =>
  (await asOwner(vigil, (q) => q<{ id: string }>('select id from role where tenant_id = $1 and name = $2', [tenantId, name]))).length;

describe('Idempotency-Key on mutations', () => {
  test('a retry of the same request gets the first answer and writes nothing more; the key is in the journal entry', async () => {
    const o = await owner();
    const key = randomUUID();
    const client = withKey(o.client, key);
    const first = await client.request(CREATE_ROLE, { n: 'Auditors' });
    const retried = await client.request(CREATE_ROLE, { n: 'Auditors' });
    expect(first.errors).toBeUndefined();
    expect(retried.data).toEqual(first.data);
    expect(await rolesNamed(o.tenantId, 'Auditors')).toBe(1);
    const created = (await auditRows(vigil, o.tenantId)).filter((r) => r.action === 'role.created');
    expect(created).toHaveLength(1);
    expect(created[0].details.idempotencyKey).toBe(key);
  });

  test('the same key with another request is a CONFLICT, and writes nothing', async () => {
    const o = await owner();
    const client = withKey(o.client, randomUUID());
    await client.ok(CREATE_ROLE, { n: 'Auditors' });
    expect(errorCode(await client.request(CREATE_ROLE, { n: 'Support' }))).toBe('CONFLICT');
    expect(await rolesNamed(o.tenantId, 'Support')).toBe(0);
  });

  test('sent twice at once, it is applied once', async () => {
    const o = await owner();
    const key = randomUUID();
    const [a, b] = [withKey(bearerClient(vigil, o.token), key), withKey(bearerClient(vigil, o.token), key)];
    const answers = await Promise.all([a.request(CREATE_ROLE, { n: 'Twins' }), b.request(CREATE_ROLE, { n: 'Twins' })]);
    expect(await rolesNamed(o.tenantId, 'Twins')).toBe(1);
    expect(answers.filter((r) => !r.errors).length).toBeGreaterThanOrEqual(1);
    for (const refused of answers.filter((r) => r.errors)) expect(errorCode(refused)).toBe('CONFLICT');
  });

  test('when the answer was lost after the commit (a failover), the retry is told so and writes nothing', async () => {
    const o = await owner();
    const key = randomUUID();
    const client = withKey(o.client, key);
    await client.ok(CREATE_ROLE, { n: 'Lost answer' });
    await asOwner(vigil, (q) => q('update idempotent_request set response = null where tenant_id = $1 and key = $2', [o.tenantId, key]));
    const retried = await client.request(CREATE_ROLE, { n: 'Lost answer' });
    expect(errorCode(retried)).toBe('CONFLICT');
    expect(retried.errors![0].message).toMatch(/applied already/);
    expect(await rolesNamed(o.tenantId, 'Lost answer')).toBe(1);
  });

  test('after a day the key and its answer are pruned, by one instance, and nothing else', async () => {
    const o = await owner();
    const client = withKey(o.client, randomUUID());
    await client.ok(CREATE_ROLE, { n: 'Kept a day' });
    const keys = async () => Number((await asOwner(vigil, (q) => q<{ n: string }>('select count(*) as n from idempotent_request where tenant_id = $1', [o.tenantId])))[0].n);
    expect(await keys()).toBe(1);
    const prune = async () => {
      await asOwner(vigil, (q) => q("update scheduled_job set leased_until = null where name = 'idempotency_prune'"));
      return pruneIdempotencyKeys(vigil.services, 60);
    };
    vigil.clock.advance(23 * 3600);
    await prune();
    expect(await keys()).toBe(1);
    vigil.clock.advance(2 * 3600);
    expect(await prune()).toBeGreaterThanOrEqual(1);
    expect(await keys()).toBe(0);
    expect(await rolesNamed(o.tenantId, 'Kept a day')).toBe(1);
  });

  test('keys are per caller and per company; a failed mutation claims nothing; a malformed key is refused', async () => {
    const [a, b] = [await owner(), await owner()];
    const key = randomUUID();
    await withKey(a.client, key).ok(CREATE_ROLE, { n: 'Shared key' });
    await withKey(b.client, key).ok(CREATE_ROLE, { n: 'Shared key' });
    expect(await rolesNamed(b.tenantId, 'Shared key')).toBe(1);

    const failing = withKey(a.client, randomUUID());
    expect(errorCode(await failing.request(CREATE_ROLE, { n: '' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await failing.request(CREATE_ROLE, { n: '' }))).toBe('BAD_USER_INPUT'); // not a replay: nothing was claimed
    expect(errorCode(await withKey(a.client, 'x'.repeat(201)).request(CREATE_ROLE, { n: 'Too long' }))).toBe('BAD_USER_INPUT');
    expect(await rolesNamed(a.tenantId, 'Too long')).toBe(0);
    // A query is not repeated work: the key is ignored.
    expect((await withKey(a.client, key).ok('{ viewer { user { id } } }')).viewer.user.id).toBe(a.userId);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { bearerClient, companyWithStaff } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Every refusal of a signed-in user (FORBIDDEN) is journalled as access.denied with the field and the
 * permission it lacked, once a minute per caller and field, so that the detectors of issue 17 can read it
 * and a flood of refusals cannot flood the journal.
 */
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof companyWithStaff>>;

beforeAll(async () => {
  vigil = await startVigil();
  company = await companyWithStaff(vigil);
}, 60_000);
afterAll(async () => vigil?.stop());

const denials = async () => (await auditRows(vigil, company.tenantId)).filter((row) => row.action === 'access.denied');

describe('access.denied', () => {
  test("an employee refused a field: journalled with the field, the missing permission and the actor, once a minute", async () => {
    const employee = company.employee.client;
    expect(errorCode(await employee.request('{ users { id } }'))).toBe('FORBIDDEN');
    const [first] = await denials();
    expect(first).toMatchObject({ actor_type: 'user', actor_id: company.employee.userId, session_id: company.employee.sessionId, outcome: 'denied', details: { field: 'Query.users', missing: ['users.read'] } });

    for (let i = 0; i < 5; i++) expect(errorCode(await employee.request('{ users { id } }'))).toBe('FORBIDDEN');
    expect(await denials()).toHaveLength(1);
    // Another field is other evidence; the same field a minute on is new evidence.
    expect(errorCode(await employee.request('{ criticalOperations { id } }'))).toBe('FORBIDDEN');
    expect((await denials()).map((row) => row.details.field)).toEqual(['Query.users', 'Query.criticalOperations']);
    vigil.clock.advance(61);
    expect(errorCode(await employee.request('{ users { id } }'))).toBe('FORBIDDEN');
    expect((await denials()).map((row) => row.details.field)).toEqual(['Query.users', 'Query.criticalOperations', 'Query.users']);
  });

  test('two API keys of one user are two callers: each refusal journalled once a minute per key', async () => {
    const create = 'mutation($n: String!) { createApiKey(input: { name: $n, permissions: ["audit.read"] }) { secret key { id } } }';
    const keys = [(await company.client.ok(create, { n: 'sync-a' })).createApiKey, (await company.client.ok(create, { n: 'sync-b' })).createApiKey];
    for (const key of [...keys, ...keys]) expect(errorCode(await bearerClient(vigil, key.secret).request('{ users { id } }'))).toBe('FORBIDDEN');
    const byKeys = (await denials()).filter((row) => row.actor_type === 'api_key');
    expect(byKeys.map((row) => row.target_id).sort()).toEqual(keys.map((key) => key.key.id).sort());
    expect(byKeys.every((row) => row.actor_id === company.userId && row.details.field === 'Query.users')).toBe(true);
  });

  test('a caller who is not signed in is asked to sign in, not journalled as refused; one allowed is not journalled', async () => {
    const before = (await denials()).length;
    expect(errorCode(await vigil.client().request('{ users { id } }'))).toBe('UNAUTHENTICATED');
    await company.client.ok('{ users { id } }');
    expect(await denials()).toHaveLength(before);
  });
});

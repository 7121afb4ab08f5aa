import { expect } from 'vitest';
import { bearerClient, inviteEmployee, signUpTenant } from './factories.ts';
import { asAppRole, asOwner } from './owner-sql.ts';
import type { TestVigil } from './vigil.ts';

/**
 * The two tenant walls, checked against a running Vigil: tenant-walls.test.ts runs them on the suite's
 * database, managed-postgres.test.ts on one owned by a CREATEDB CREATEROLE role (a managed server's owner).
 */

/** Every table holding a tenant's rows. */
export async function tenantTables(vigil: TestVigil): Promise<string[]> {
  const rows = await asOwner(vigil, (q) =>
    q<{ table_name: string }>("select table_name from information_schema.columns where table_schema = 'public' and column_name = 'tenant_id' order by 1"),
  );
  return ['tenant', ...rows.map((r) => r.table_name)];
}

/** Wall 2 alone: raw SQL as the application role sees nothing with no tenant set, and nothing of B as A. */
export async function expectRawSelectsWalled(vigil: TestVigil): Promise<void> {
  const a = await signUpTenant(vigil.client());
  const b = await signUpTenant(vigil.client());
  const ownerA = bearerClient(vigil, a.token);
  const ownerB = bearerClient(vigil, b.token);
  for (const client of [ownerA, ownerB]) {
    await inviteEmployee(client, 'Employee');
    await client.ok('mutation { createApiKey(input: { name: "k", permissions: [] }) { secret } }');
    await client.ok('mutation { exportAuditEvents(format: CSV) { url } }');
  }
  for (const table of await tenantTables(vigil)) {
    const column = table === 'tenant' ? 'id' : 'tenant_id';
    const unset = await asAppRole(vigil, (q) => q(`select count(*)::int as n from "${table}"`));
    expect({ table, rows: Number(unset[0].n) }).toEqual({ table, rows: 0 });
    const seenByA = await asAppRole(vigil, async (q) => {
      await q('begin');
      try {
        await q(`select set_config('app.tenant_id', $1, true)`, [a.tenantId]);
        return await q<{ tenant: string; n: number }>(`select ${column} as tenant, count(*)::int as n from "${table}" group by 1`);
      } finally {
        await q('commit');
      }
    });
    expect(seenByA.every((row) => row.tenant === a.tenantId)).toBe(true);
    if (['tenant', 'role', 'app_user', 'session', 'audit_event', 'api_key', 'invitation', 'audit_export'].includes(table)) {
      expect({ table, rows: seenByA.length }).toEqual({ table, rows: 1 });
    }
  }
}

/** Wall 2 on writes: the policy refuses a row for another tenant. */
export async function expectCrossTenantWritesRefused(vigil: TestVigil): Promise<void> {
  const a = await signUpTenant(vigil.client());
  const b = await signUpTenant(vigil.client());
  const error = await asAppRole(vigil, async (q) => {
    await q('begin');
    try {
      await q(`select set_config('app.tenant_id', $1, true)`, [a.tenantId]);
      await q(`update app_user set display_name = 'pwned' where tenant_id = $1`, [b.tenantId]);
      await q(`insert into role (id, tenant_id, name, description, permissions, created_at, updated_at) values (gen_random_uuid(), $1, 'x', '', '{}', now(), now())`, [b.tenantId]);
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      await q('rollback');
    }
  });
  expect(error).toMatch(/row-level security/);
}

/** Every query and mutation field taking an id, with how to call it; a new one without an entry fails this test. */
export const ID_FIELDS: Record<string, (id: string, ids: Ids) => [string, Record<string, unknown>]> = {
  'Query.user': (id) => ['query($id: ID!) { user(id: $id) { id email } }', { id }],
  'Query.userSessions': (id) => ['query($id: ID!) { userSessions(userId: $id) { id } }', { id }],
  'Query.signInHistory': (id) => ['query($id: ID) { signInHistory(userId: $id) { edges { node { id } } } }', { id }],
  'Mutation.revokeSession': (id) => ['mutation($id: ID!) { revokeSession(id: $id) { id } }', { id }],
  'Mutation.revokeUserSessions': (id) => ['mutation($id: ID!) { revokeUserSessions(userId: $id) }', { id }],
  'Mutation.setUserRole.userId': (id, own) => ['mutation($id: ID!, $r: ID!) { setUserRole(userId: $id, roleId: $r) { id } }', { id, r: own.employeeRole }],
  'Mutation.setUserRole.roleId': (id, own) => ['mutation($id: ID!, $u: ID!) { setUserRole(userId: $u, roleId: $id) { id } }', { id, u: own.employee }],
  'Mutation.disableUser': (id) => ['mutation($id: ID!) { disableUser(userId: $id) { id } }', { id }],
  'Mutation.enableUser': (id) => ['mutation($id: ID!) { enableUser(userId: $id) { id } }', { id }],
  'Mutation.unlockUser': (id) => ['mutation($id: ID!) { unlockUser(userId: $id) { id } }', { id }],
  'Mutation.resetUserPassword': (id) => ['mutation($id: ID!) { resetUserPassword(userId: $id) { token } }', { id }],
  'Mutation.updateRole': (id) => ['mutation($id: ID!) { updateRole(id: $id, input: { name: "x" }) { id } }', { id }],
  'Mutation.deleteRole': (id) => ['mutation($id: ID!) { deleteRole(id: $id) { id } }', { id }],
  'Mutation.inviteUser': (id) => ['mutation($id: ID!) { inviteUser(email: "idor@acme.test", roleId: $id) { token } }', { id }],
  'Mutation.rotateApiKey': (id) => ['mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id }],
  'Mutation.revokeApiKey': (id) => ['mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id }],
  'Mutation.revealRotatedApiKey': (id) => ['mutation($id: ID!) { revealRotatedApiKey(id: $id) { secret } }', { id }],
  'Mutation.requestOwnershipTransfer': (id) => ['mutation($id: ID!) { requestOwnershipTransfer(newOwnerId: $id, reason: "Handing the company over.") { id } }', { id }],
  'Mutation.cancelCriticalOperation': (id) => ['mutation($id: ID!) { cancelCriticalOperation(id: $id) { id } }', { id }],
  'Mutation.revokeSupportAccess': (id) => ['mutation($id: ID!) { revokeSupportAccess(id: $id) { id } }', { id }],
  'Mutation.acknowledgeBreakGlass': (id) => ['mutation($id: ID!) { acknowledgeBreakGlass(id: $id) }', { id }],
  'Mutation.lockDown': (id) => ['mutation($id: ID) { lockDown(input: { scope: USER, userId: $id, reason: "Testing the wall." }) { scope } }', { id }],
  'Mutation.acceptOwnershipTransfer': (id) => ['mutation($id: ID!) { acceptOwnershipTransfer(id: $id) { id } }', { id }],
  'Mutation.updateWebhookEndpoint': (id) => ['mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, state: PAUSED }) { id } }', { id }],
  'Mutation.deleteWebhookEndpoint': (id) => ['mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }', { id }],
  'Mutation.testWebhookEndpoint': (id) => ['mutation($id: ID!) { testWebhookEndpoint(id: $id) { ok } }', { id }],
};
/** Ids that filter rather than address: another tenant's id must simply match nothing. */
export const FILTER_FIELDS = ['Query.auditEvents', 'Mutation.exportAuditEvents', 'Subscription.auditEvents'];

export interface Ids {
  employee: string;
  employeeRole: string;
}

/** Wall 1 and the API: every id of tenant B, through every id-taking field, is NOT_FOUND to tenant A. */
export async function expectIdsOfAnotherTenantNotFound(vigil: TestVigil): Promise<void> {
  const a = await signUpTenant(vigil.client());
  const ownerA = bearerClient(vigil, a.token);
  const employeeA = await inviteEmployee(ownerA, 'Employee');
  const ownIds: Ids = { employee: employeeA.userId, employeeRole: employeeA.roleId };

  const b = await signUpTenant(vigil.client());
  const ownerB = bearerClient(vigil, b.token);
  const employeeB = await inviteEmployee(ownerB, 'Employee');
  const keyB = (await ownerB.ok('mutation { createApiKey(input: { name: "b", permissions: [] }) { key { id } } }')).createApiKey.key.id;
  const operationB = (await ownerB.ok('mutation { requestCompanyDeletion(reason: "Closing company B down.") { id } }')).requestCompanyDeletion.id;
  // A public address, never called here: registering it resolves nothing.
  const webhookB = (await ownerB.ok('mutation { createWebhookEndpoint(input: { url: "https://93.184.215.14/hook" }) { endpoint { id } } }')).createWebhookEndpoint.endpoint.id;
  const idsOfB = await asOwner(vigil, async (q) => {
    const rows = await q<{ id: string }>(
      `select id::text from app_user where tenant_id = $1 union all select id::text from role where tenant_id = $1
       union all select id::text from session where tenant_id = $1 union all select id::text from invitation where tenant_id = $1
       union all select id::text from api_key where tenant_id = $1 union all select id::text from audit_event where tenant_id = $1 limit 40`,
      [b.tenantId],
    );
    return [...new Set([b.tenantId, employeeB.userId, keyB, operationB, webhookB, ...rows.map((r) => r.id)])];
  });

  const nowhere = crypto.randomUUID();
  for (const [name, call] of Object.entries(ID_FIELDS)) {
    const [query, variables] = call(nowhere, ownIds);
    const reference = await ownerA.request(query, variables);
    expect({ name, code: reference.errors?.[0].extensions?.code }).toEqual({ name, code: 'NOT_FOUND' });
    for (const id of idsOfB) {
      const [q, v] = call(id, ownIds);
      const result = await ownerA.request(q, v);
      expect({ name, id, data: result.data, errors: result.errors }).toEqual({ name, id, data: reference.data, errors: reference.errors });
    }
  }
  for (const id of idsOfB) {
    const found = await ownerA.ok('query($id: ID!) { auditEvents(first: 100, filter: { actorId: $id }) { edges { node { id } } } targeted: auditEvents(first: 100, filter: { targetId: $id }) { edges { node { id } } } }', { id });
    expect(found.auditEvents.edges).toEqual([]);
    expect(found.targeted.edges).toEqual([]);
  }
  // Nothing of B was changed by the attempts.
  expect((await ownerB.ok('{ viewer { user { id } } }')).viewer.user.id).toBe(b.userId);
  expect((await ownerB.ok('{ apiKeys { id status } }')).apiKeys).toEqual([{ id: keyB, status: 'ACTIVE' }]);
  expect((await ownerB.ok('{ users { id status role { name } } }')).users.find((u: any) => u.id === employeeB.userId)).toMatchObject({ status: 'ACTIVE', role: { name: 'Employee' } });
}

import { type GraphQLField, type GraphQLInputType, type GraphQLObjectType, getNamedType, isInputObjectType, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { schema } from '../../server/src/schema.ts';
import { APP_ROLE } from '../../server/src/db/tenancy.ts';
import { bearerClient, inviteEmployee, signUpTenant } from '../support/factories.ts';
import { asAppRole, asOwner } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** The only fields anyone may call without being signed in. */
const PUBLIC_FIELDS = ['Query.viewer', 'Mutation.signUp', 'Mutation.signIn', 'Mutation.completeSignIn', 'Mutation.signOut', 'Mutation.acceptInvitation', 'Mutation.completePasswordReset'];
const PUBLIC_TYPES = ['AuthPayload'];

const scopesOf = (owner: { extensions?: unknown }) => (owner.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions?.authScopes;

describe('every field is authorised through scope-auth', () => {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean) as GraphQLObjectType[];

  test('every root field has its own scopes, and only the public list is public', () => {
    const missing: string[] = [];
    const publicFields: string[] = [];
    for (const root of roots) {
      for (const field of Object.values(root.getFields())) {
        const scopes = scopesOf(field);
        if (!scopes) missing.push(`${root.name}.${field.name}`);
        if (scopes && typeof scopes === 'object' && 'public' in scopes) publicFields.push(`${root.name}.${field.name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(publicFields.sort()).toEqual([...PUBLIC_FIELDS].sort());
  });

  test('every other object type is guarded as a whole or field by field', () => {
    const unguarded: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || roots.includes(type)) continue;
      const typeScopes = scopesOf(type);
      if (typeScopes && typeof typeScopes === 'object' && 'public' in typeScopes && !PUBLIC_TYPES.includes(type.name)) unguarded.push(`${type.name} (public)`);
      if (typeScopes) continue;
      for (const field of Object.values(type.getFields())) if (!scopesOf(field)) unguarded.push(`${type.name}.${field.name}`);
    }
    expect(unguarded).toEqual([]);
  });
});

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

describe('wall 2: row-level security in PostgreSQL', () => {
  test('the application role is neither superuser, nor BYPASSRLS, nor owner of any table', async () => {
    const [role] = await asAppRole(vigil, (q) => q<{ user: string; rolsuper: boolean; rolbypassrls: boolean }>('select current_user as user, rolsuper, rolbypassrls from pg_roles where rolname = current_user'));
    expect(role).toEqual({ user: APP_ROLE, rolsuper: false, rolbypassrls: false });
    const owned = await asAppRole(vigil, (q) => q("select tablename from pg_tables where schemaname = 'public' and tableowner = current_user"));
    expect(owned).toEqual([]);
  });

  test('every tenant table has row-level security enabled and forced', async () => {
    const tables = await tenantTables();
    expect(tables.length).toBeGreaterThanOrEqual(10);
    const flags = await asOwner(vigil, (q) =>
      q<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        "select relname, relrowsecurity, relforcerowsecurity from pg_class where relname = any($1::text[]) and relkind = 'r'",
        [`{${tables.join(',')}}`],
      ),
    );
    expect(flags.filter((f) => !f.relrowsecurity || !f.relforcerowsecurity)).toEqual([]);
  });

  test('a raw SELECT with no tenant set sees nothing, and with tenant A sees nothing of B', async () => {
    const a = await signUpTenant(vigil.client());
    const b = await signUpTenant(vigil.client());
    const ownerA = bearerClient(vigil, a.token);
    const ownerB = bearerClient(vigil, b.token);
    for (const client of [ownerA, ownerB]) {
      await inviteEmployee(client, 'Employee');
      await client.ok('mutation { createApiKey(input: { name: "k", permissions: [] }) { secret } }');
      await client.ok('mutation { exportAuditEvents(format: CSV) { url } }');
    }
    for (const table of await tenantTables()) {
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
  });

  test('writing a row for another tenant is refused by the policy', async () => {
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
  });

  async function tenantTables(): Promise<string[]> {
    const rows = await asOwner(vigil, (q) =>
      q<{ table_name: string }>("select table_name from information_schema.columns where table_schema = 'public' and column_name = 'tenant_id' order by 1"),
    );
    return ['tenant', ...rows.map((r) => r.table_name)];
  }
});

describe("wall 1 and the API: an id of another tenant is the same NOT_FOUND as one that does not exist", () => {
  /** Every query and mutation field taking an id, with how to call it; a new one without an entry fails this test. */
  const ID_FIELDS: Record<string, (id: string, ids: Ids) => [string, Record<string, unknown>]> = {
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
  };
  /** Ids that filter rather than address: another tenant's id must simply match nothing. */
  const FILTER_FIELDS = ['Query.auditEvents', 'Mutation.exportAuditEvents', 'Subscription.auditEvents'];

  interface Ids {
    employee: string;
    employeeRole: string;
  }

  test('the table covers every field that takes an id', () => {
    const takesId = (type: unknown): boolean => {
      const named = getNamedType(type as GraphQLInputType);
      if (named.name === 'ID') return true;
      return isInputObjectType(named) && Object.values(named.getFields()).some((f) => takesId(f.type));
    };
    const fields: string[] = [];
    for (const root of [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!]) {
      for (const field of Object.values(root.getFields()) as GraphQLField<unknown, unknown>[]) {
        if (field.args.some((a) => takesId(a.type))) fields.push(`${root.name}.${field.name}`);
      }
    }
    const covered = new Set([...Object.keys(ID_FIELDS).map((k) => k.split('.').slice(0, 2).join('.')), ...FILTER_FIELDS]);
    expect(fields.filter((f) => !covered.has(f))).toEqual([]);
  });

  test("every id of tenant B, through every id-taking field, as tenant A's owner", async () => {
    const a = await signUpTenant(vigil.client());
    const ownerA = bearerClient(vigil, a.token);
    const employeeA = await inviteEmployee(ownerA, 'Employee');
    const ownIds: Ids = { employee: employeeA.userId, employeeRole: employeeA.roleId };

    const b = await signUpTenant(vigil.client());
    const ownerB = bearerClient(vigil, b.token);
    const employeeB = await inviteEmployee(ownerB, 'Employee');
    const keyB = (await ownerB.ok('mutation { createApiKey(input: { name: "b", permissions: [] }) { key { id } } }')).createApiKey.key.id;
    const idsOfB = await asOwner(vigil, async (q) => {
      const rows = await q<{ id: string }>(
        `select id::text from app_user where tenant_id = $1 union all select id::text from role where tenant_id = $1
         union all select id::text from session where tenant_id = $1 union all select id::text from invitation where tenant_id = $1
         union all select id::text from api_key where tenant_id = $1 union all select id::text from audit_event where tenant_id = $1 limit 40`,
        [b.tenantId],
      );
      return [...new Set([b.tenantId, employeeB.userId, keyB, ...rows.map((r) => r.id)])];
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
  }, 120_000);
});

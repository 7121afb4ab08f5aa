import { type GraphQLField, type GraphQLInputType, type GraphQLObjectType, getNamedType, isInputObjectType, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { schema } from '../../server/src/schema.ts';
import { APP_ROLE, LOCATOR_ROLE } from '../../server/src/db/tenancy.ts';
import { asAppRole, asOwner } from '../support/owner-sql.ts';
import { FILTER_FIELDS, ID_FIELDS, expectCrossTenantWritesRefused, expectIdsOfAnotherTenantNotFound, expectRawSelectsWalled, tenantTables } from '../support/walls.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** The only fields anyone may call without being signed in. */
const PUBLIC_FIELDS = ['Query.viewer', 'Query.signUpOpen', 'Query.firstRun', 'Mutation.signUp', 'Mutation.signIn', 'Mutation.completeSignIn', 'Mutation.signOut', 'Mutation.acceptInvitation', 'Mutation.completePasswordReset'];
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
    const tables = await tenantTables(vigil);
    expect(tables.length).toBeGreaterThanOrEqual(10);
    const flags = await asOwner(vigil, (q) =>
      q<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        "select relname, relrowsecurity, relforcerowsecurity from pg_class where relname = any($1::text[]) and relkind = 'r'",
        [`{${tables.join(',')}}`],
      ),
    );
    expect(flags.filter((f) => !f.relrowsecurity || !f.relforcerowsecurity)).toEqual([]);
  });

  test('every tenant table is granted to the application role, and to the locators exactly when its entity is located or holds platform rows', async () => {
    const locatorPolicies = (table: string | undefined) => [`${table}_locator`, `${table}_platform_read`];
    const located = new Set(
      [...vigil.services.db.orm.getMetadata().getAll().values()]
        .filter((meta) => meta.policies?.some((policy) => locatorPolicies(meta.tableName).includes(policy.name ?? '')))
        .map((meta) => meta.tableName),
    );
    expect(located.size).toBeGreaterThanOrEqual(9);
    const tables = await tenantTables(vigil);
    const grants = await asOwner(vigil, (q) =>
      q<{ table: string; app: boolean; locator: boolean }>(
        `select t as table, has_table_privilege($1, t, 'select') as app, has_table_privilege($2, t, 'select') as locator from unnest($3::text[]) t`,
        [APP_ROLE, LOCATOR_ROLE, `{${tables.join(',')}}`],
      ),
    );
    expect(grants.filter((g) => !g.app || g.locator !== located.has(g.table))).toEqual([]);
  });

  test('a raw SELECT with no tenant set sees nothing, and with tenant A sees nothing of B', () => expectRawSelectsWalled(vigil));

  test('writing a row for another tenant is refused by the policy', () => expectCrossTenantWritesRefused(vigil));
});

describe("wall 1 and the API: an id of another tenant is the same NOT_FOUND as one that does not exist", () => {
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

  test("every id of tenant B, through every id-taking field, as tenant A's owner", () => expectIdsOfAnotherTenantNotFound(vigil), 120_000);
});

import type { PolicyDef } from '@mikro-orm/core';

/** The transaction-local setting that row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

/** Reserved tenant for events that belong to no customer (for example sign-ins to an unknown tenant). */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** The application role: neither superuser, nor BYPASSRLS, nor owner of the tables. */
export const APP_ROLE = 'vigil_app';

/**
 * Owns the SECURITY DEFINER locator functions and nothing else: NOLOGIN, no member, and SELECT policies
 * of its own, so the locators see past row-level security without anyone (the owner included) bypassing it.
 */
export const LOCATOR_ROLE = 'vigil_locator';

/** The tables the locator functions read, each with a SELECT policy for LOCATOR_ROLE alone. */
const LOCATED_TABLES = new Set(['tenant', 'app_user', 'role', 'session', 'api_key', 'invitation', 'sign_in_challenge', 'password_reset', 'access_change']);

// An unset or empty setting compares as NULL, so a query without a tenant sees no rows at all.
const currentTenant = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;

/**
 * Wall 2: PostgreSQL row-level security, forced on the owner too, keyed by the tenant setting.
 * Wall 1 is the `tenant` filter each tenant-owned entity declares next to it.
 */
export function tenantPolicy(table: string, column: 'tenant' | 'id' = 'tenant'): PolicyDef[] {
  const predicate = (columns: Record<string, string>) => `${columns[column]} = ${currentTenant}`;
  const isolation: PolicyDef = { name: `${table}_tenant_isolation`, using: predicate, check: predicate };
  if (!LOCATED_TABLES.has(table)) return [isolation];
  return [isolation, { name: `${table}_locator`, command: 'select', roles: [LOCATOR_ROLE], using: 'true' }];
}

export interface TenantFilterArgs {
  id: string;
}

export const TENANT_FILTER = 'tenant';

/**
 * A tenant-owned entity's tenancy, both walls in one: `...tenantOwned('table')` in its defineEntity. The
 * ORM filter (wall 1, on by default, failing closed without a tenant) and forced row-level security with its
 * policies (wall 2). The tenant table itself keys on its id.
 */
export function tenantOwned(table: string, column: 'tenant' | 'id' = 'tenant') {
  return {
    rowLevelSecurity: 'force' as const,
    policies: tenantPolicy(table, column),
    filters: {
      [TENANT_FILTER]: { name: TENANT_FILTER, cond: (args: TenantFilterArgs) => (column === 'id' ? { id: args.id } : { tenant: args.id }), default: true },
    },
  };
}

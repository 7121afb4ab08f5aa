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

/**
 * The platform operators' role, behind /ops/graphql: their own tables, the narrow tenant summary and the
 * SECURITY DEFINER functions that journal for them, and no grant on any tenant table.
 */
export const OPS_ROLE = 'vigil_ops';

// An unset or empty setting compares as NULL, so a query without a tenant sees no rows at all.
const currentTenant = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;

export interface TenantFilterArgs {
  id: string;
}

export const TENANT_FILTER = 'tenant';

export interface Tenancy {
  /** The tenant table itself keys on its id; every other table on tenant_id. */
  keyedBy?: 'tenant' | 'id';
  /**
   * Read by the locator functions (SECURITY DEFINER, owned by LOCATOR_ROLE): the table gets a SELECT policy
   * for that role alone, and its migration grants it SELECT (tenantTableAccess).
   */
  located?: boolean;
  /**
   * The platform tenant's rows are read and appended by SECURITY DEFINER functions of LOCATOR_ROLE for the
   * operators (their journal, db/functions/vigil_append_operator_audit.sql): policies for that role and those
   * rows alone, so even those functions cannot touch a customer's.
   */
  platformRows?: boolean;
}

/**
 * A tenant-owned entity's tenancy, both walls in one: `...tenantOwned('table')` in its defineEntity. The
 * ORM filter (wall 1, on by default, failing closed without a tenant) and PostgreSQL row-level security,
 * forced on the owner too and keyed by the tenant setting (wall 2), with the locators' policy when located.
 */
export function tenantOwned(table: string, { keyedBy = 'tenant', located = false, platformRows = false }: Tenancy = {}) {
  const predicate = (columns: Record<string, string>) => `${columns[keyedBy]} = ${currentTenant}`;
  const isolation: PolicyDef = { name: `${table}_tenant_isolation`, using: predicate, check: predicate };
  const locator: PolicyDef = { name: `${table}_locator`, command: 'select', roles: [LOCATOR_ROLE], using: 'true' };
  const platform = (columns: Record<string, string>) => `${columns[keyedBy]} = '${PLATFORM_TENANT_ID}'::uuid`;
  const platformPolicies: PolicyDef[] = [
    { name: `${table}_platform_read`, command: 'select', roles: [LOCATOR_ROLE], using: platform },
    { name: `${table}_platform_append`, command: 'insert', roles: [LOCATOR_ROLE], check: platform },
  ];
  return {
    rowLevelSecurity: 'force' as const,
    policies: [isolation, ...(located ? [locator] : []), ...(platformRows ? platformPolicies : [])],
    filters: {
      [TENANT_FILTER]: { name: TENANT_FILTER, cond: (args: TenantFilterArgs) => (keyedBy === 'id' ? { id: args.id } : { tenant: args.id }), default: true },
    },
  };
}

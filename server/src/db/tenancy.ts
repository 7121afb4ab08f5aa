import type { PolicyDef } from '@mikro-orm/core';

/** The transaction-local setting that row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

/** Reserved tenant for events that belong to no customer (for example sign-ins to an unknown tenant). */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** The application role: neither superuser, nor BYPASSRLS, nor owner of the tables. */
export const APP_ROLE = 'vigil_app';

// An unset or empty setting compares as NULL, so a query without a tenant sees no rows at all.
const currentTenant = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;

/**
 * Wall 2: PostgreSQL row-level security, forced on the owner too, keyed by the tenant setting.
 * Wall 1 is the `tenant` filter each tenant-owned entity declares next to it.
 */
export function tenantPolicy(table: string, column: 'tenant' | 'id' = 'tenant'): PolicyDef[] {
  const predicate = (columns: Record<string, string>) => `${columns[column]} = ${currentTenant}`;
  return [{ name: `${table}_tenant_isolation`, using: predicate, check: predicate }];
}

export interface TenantFilterArgs {
  id: string;
}

export const TENANT_FILTER = 'tenant';

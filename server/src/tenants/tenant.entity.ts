import { defineEntity, p } from '@mikro-orm/postgresql';
import { TENANT_FILTER, type TenantFilterArgs, tenantPolicy } from '../db/tenancy.ts';

export const Tenant = defineEntity({
  name: 'Tenant',
  rowLevelSecurity: 'force',
  policies: tenantPolicy('tenant', 'id'),
  filters: { [TENANT_FILTER]: { name: TENANT_FILTER, cond: (args: TenantFilterArgs) => ({ id: args.id }), default: true } },
  properties: {
    id: p.uuid().primary(),
    slug: p.string().length(63).unique(),
    name: p.string().length(200),
    createdAt: p.datetime(),
    /** Session lifetimes, set by the owner within the bounds in sessions/session-policy.ts. */
    idleTimeoutSeconds: p.integer(),
    absoluteTimeoutSeconds: p.integer(),
    rotationIntervalSeconds: p.integer(),
    rotationGraceSeconds: p.integer(),
    apiKeyMaxAgeDays: p.integer(),
  },
});

export type Tenant = InstanceType<typeof Tenant.class>;

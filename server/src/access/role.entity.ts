import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

export const Role = defineEntity({
  name: 'Role',
  ...tenantOwned('role', { located: true }),
  uniques: [{ properties: ['tenant', 'name'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    name: p.string().length(80),
    description: p.string().length(500),
    permissions: p.array(),
    /** Set on the four roles every tenant starts with; built-in roles keep their key. */
    builtIn: p.string().length(40).nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export type Role = InstanceType<typeof Role.class>;

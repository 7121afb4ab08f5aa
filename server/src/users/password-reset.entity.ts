import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from './user.entity.ts';

/** An owner's reset of an employee's password: random token stored as SHA-256, 24 hours, single use. */
export const PasswordReset = defineEntity({
  name: 'PasswordReset',
  ...tenantOwned('password_reset', { located: true }),
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User).index().deleteRule('cascade'),
    secretHash: p.string().length(64).hidden(),
    resetBy: () => p.manyToOne(User).index(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export type PasswordReset = InstanceType<typeof PasswordReset.class>;

import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/** Single-use codes for when the authenticator is lost; 120 random bits each, stored as SHA-256. */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  ...tenantOwned('recovery_code'),
  uniques: [{ properties: ['tenant', 'codeHash'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User).index(),
    codeHash: p.string().length(64).hidden(),
    createdAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});

export type RecoveryCode = InstanceType<typeof RecoveryCode.class>;

import { defineEntity, p } from '@mikro-orm/postgresql';
import { TENANT_FILTER, type TenantFilterArgs, tenantPolicy } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/** Proof that the password was right, waiting for the confirmation code. Single use, five minutes. */
export const SignInChallenge = defineEntity({
  name: 'SignInChallenge',
  rowLevelSecurity: 'force',
  policies: tenantPolicy('sign_in_challenge'),
  filters: { [TENANT_FILTER]: { name: TENANT_FILTER, cond: (args: TenantFilterArgs) => ({ tenant: args.id }), default: true } },
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User).index(),
    secretHash: p.string().length(64).hidden(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});

export type SignInChallenge = InstanceType<typeof SignInChallenge.class>;

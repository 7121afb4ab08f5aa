import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/** Proof that the password was right, waiting for the confirmation code. Single use, five minutes. */
export const SignInChallenge = defineEntity({
  name: 'SignInChallenge',
  ...tenantOwned('sign_in_challenge', { located: true }),
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

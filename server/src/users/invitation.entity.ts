import { defineEntity, p } from '@mikro-orm/postgresql';
import { Role } from '../access/role.entity.ts';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from './user.entity.ts';

/** A one-time invitation for an employee: random token stored as SHA-256, 72 hours, single use. */
export const Invitation = defineEntity({
  name: 'Invitation',
  ...tenantOwned('invitation', { located: true }),
  indexes: [{ properties: ['tenant', 'email'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    email: p.string().length(254),
    role: () => p.manyToOne(Role).index().deleteRule('cascade'),
    secretHash: p.string().length(64).hidden(),
    invitedBy: () => p.manyToOne(User).index(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    acceptedAt: p.datetime().nullable(),
    acceptedUserId: p.uuid().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export type Invitation = InstanceType<typeof Invitation.class>;

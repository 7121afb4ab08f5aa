import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/**
 * A browser or client a user signed in from. Its cookie lets the owner in past an account lock an
 * attacker triggers from elsewhere, and a sign-in from anything unknown is journalled as a new device.
 */
export const KnownDevice = defineEntity({
  name: 'KnownDevice',
  ...tenantOwned('known_device'),
  indexes: [{ properties: ['tenant', 'user'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User),
    secretHash: p.string().length(64).hidden(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
  },
});

export type KnownDevice = InstanceType<typeof KnownDevice.class>;

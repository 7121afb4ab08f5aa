import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/** An integrator's credential. Acts for its creator, never beyond the creator's current rights. */
export const ApiKey = defineEntity({
  name: 'ApiKey',
  ...tenantOwned('api_key', { located: true }),
  indexes: [{ properties: ['tenant', 'user'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User),
    name: p.string().length(100),
    /** The first characters of the key, to recognise it in lists and in secret scanners. */
    prefix: p.string().length(16),
    secretHash: p.string().length(64).hidden(),
    permissions: p.array(),
    createdAt: p.datetime(),
    expiresAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    lastUsedIp: p.string().length(64).nullable(),
    revokedAt: p.datetime().nullable(),
    revokeReason: p.string().length(40).nullable(),
    rotatedFromId: p.uuid().nullable(),
    rotatedToId: p.uuid().nullable(),
    /** After a rotation, the old key works until then (the grace window). */
    validUntil: p.datetime().nullable(),
    autoRotated: p.boolean(),
    /** The secret of an automatically rotated key, encrypted until its owner reveals it once. */
    pendingSecretEnc: p.string().length(400).nullable().hidden(),
    revealedAt: p.datetime().nullable(),
  },
});

export type ApiKey = InstanceType<typeof ApiKey.class>;

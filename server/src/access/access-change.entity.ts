import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

/**
 * An access signal, written in the same transaction as the change that takes access away (a session
 * ended, a user or role changed, a key revoked). Redis carries the signal to the other instances at once;
 * these rows are what they read when Redis did not, so a revocation never depends on Redis. Kept an hour.
 */
export const AccessChange = defineEntity({
  name: 'AccessChange',
  ...tenantOwned('access_change', { located: true }),
  indexes: [{ properties: ['recordedAt'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    /** The database's clock at insert, which the readers' window compares with: not the application's. */
    recordedAt: p.datetime().defaultRaw('clock_timestamp()'),
    signal: p.json<Record<string, unknown>>(),
  },
});

export type AccessChange = InstanceType<typeof AccessChange.class>;

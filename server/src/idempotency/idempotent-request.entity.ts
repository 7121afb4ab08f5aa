import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

/**
 * A mutation sent with an Idempotency-Key (issue 16): claimed in the mutation's own transaction, so that the
 * key exists exactly when the change does, and its answer kept for the retry that comes after a failover.
 */
export const IdempotentRequest = defineEntity({
  name: 'IdempotentRequest',
  ...tenantOwned('idempotent_request'),
  uniques: [{ properties: ['tenant', 'principal', 'key'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    /** The session's user or the API key that sent it: one caller's key is not another's. */
    principal: p.string().length(60),
    key: p.string().length(200),
    /** SHA-256 of the operation (printed), its name and its variables: the same key with another request is refused. */
    requestHash: p.string().length(64),
    createdAt: p.datetime(),
    /** The first answer, as JSON; null until it is stored (or when a failover took it). */
    response: p.json<Record<string, unknown>>().nullable(),
  },
});

export type IdempotentRequest = InstanceType<typeof IdempotentRequest.class>;

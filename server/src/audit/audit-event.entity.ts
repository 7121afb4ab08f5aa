import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const ACTOR_TYPES = ['user', 'api_key', 'anonymous', 'system', 'operator'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * One entry of a tenant's journal. Append-only (grants and triggers in the security migration),
 * and chained: hash = SHA-256(prevHash ‖ canonical JSON of the entry), seq gap-free per tenant.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  ...tenantOwned('audit_event', { platformRows: true }),
  uniques: [{ properties: ['tenant', 'seq'] }],
  indexes: [
    { properties: ['tenant', 'action', 'seq'] },
    { properties: ['tenant', 'actorId', 'seq'] },
    { properties: ['tenant', 'targetId', 'seq'] },
  ],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    seq: p.bigint('number'),
    occurredAt: p.datetime(),
    action: p.string().length(80),
    outcome: p.enum(AUDIT_OUTCOMES),
    actorType: p.enum(ACTOR_TYPES),
    actorId: p.uuid().nullable(),
    targetType: p.string().length(40).nullable(),
    targetId: p.uuid().nullable(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    sessionId: p.uuid().nullable(),
    details: p.json<Record<string, unknown>>(),
    prevHash: p.string().length(64),
    hash: p.string().length(64),
  },
});

export type AuditEvent = InstanceType<typeof AuditEvent.class>;

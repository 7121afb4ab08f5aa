import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

/** What a grant lets support read: the journal; users' and sessions' metadata; the company's critical operations. */
export const SUPPORT_SCOPES = ['journal', 'people', 'critical_operations'] as const;
export type SupportScope = (typeof SUPPORT_SCOPES)[number];

/** Why both operators may open a company without its grant (OPERATIONS.md §2): a fixed list, nothing free-form. */
export const BREAK_GLASS_JUSTIFICATIONS = ['active_security_incident', 'data_loss_recovery', 'legal_order', 'owner_unreachable_outage'] as const;
export type BreakGlassJustification = (typeof BREAK_GLASS_JUSTIFICATIONS)[number];

/**
 * Read-only access of the vendor's support to one company: granted by its owner (kind 'grant', for a reason
 * and a case, at most 72 hours), or opened by both operators without it (kind 'break_glass', at most an hour,
 * shown to the owner at their next sign-in). In force while approved, not revoked and not expired.
 */
export const SupportGrant = defineEntity({
  name: 'SupportGrant',
  ...tenantOwned('support_grant', { located: true }),
  indexes: [{ properties: ['tenant', 'expiresAt'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    kind: p.enum(['grant', 'break_glass'] as const),
    scopes: p.array(),
    reason: p.string().length(500),
    caseReference: p.string().length(100),
    /** The owner who granted it; null for a break-glass. */
    grantedBy: p.uuid().nullable(),
    /** A break-glass: the operator who asked, the other who approved (approvedAt); a grant is approved when made. */
    requestedByOperator: p.uuid().nullable(),
    approvedByOperator: p.uuid().nullable(),
    justification: p.string().length(60).nullable(),
    createdAt: p.datetime(),
    approvedAt: p.datetime().nullable(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedBy: p.uuid().nullable(),
    /** When the owner was shown the break-glass at sign-in. */
    ownerShownAt: p.datetime().nullable(),
  },
});

export type SupportGrant = InstanceType<typeof SupportGrant.class>;

/** An operator's credential under one grant (`vsp_<id>.<secret>`, hash stored): it ends with the grant. */
export const SupportSession = defineEntity({
  name: 'SupportSession',
  ...tenantOwned('support_session', { located: true }),
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    grant: () => p.manyToOne(SupportGrant),
    operatorId: p.uuid(),
    secretHash: p.string().length(64).hidden(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
  },
});

export type SupportSession = InstanceType<typeof SupportSession.class>;

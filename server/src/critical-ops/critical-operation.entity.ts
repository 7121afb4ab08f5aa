import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

export const CRITICAL_KINDS = ['tenant.delete', 'tenant.transfer_ownership'] as const;
export type CriticalKind = (typeof CRITICAL_KINDS)[number];

/**
 * requested → verified (an operator checked out of band) → approved (transfer: waiting for the new owner)
 * → cooling_off → executed (→ purged, for a deletion); cancelled, denied and expired end it early.
 */
export const CRITICAL_STATES = ['requested', 'verified', 'approved', 'cooling_off', 'executed', 'purged', 'cancelled', 'denied', 'expired'] as const;
export type CriticalState = (typeof CRITICAL_STATES)[number];

/** States from which the operation can still happen: at most one such operation per company. */
export const OPEN_STATES: readonly CriticalState[] = ['requested', 'verified', 'approved', 'cooling_off'];

/**
 * A company's deletion or ownership transfer under human verification (issue 15). Every change of state
 * is vigil_critical_transition (db/functions/), under a row lock, journalled in the company's journal and
 * the platform journal with intentHash, the SHA-256 of the exact parameters the operator approves.
 */
export const CriticalOperation = defineEntity({
  name: 'CriticalOperation',
  ...tenantOwned('critical_operation', { located: true }),
  indexes: [{ properties: ['tenant', 'state'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    kind: p.enum(CRITICAL_KINDS),
    /** What exactly will happen: for a transfer, { newOwnerId }. */
    params: p.json<Record<string, unknown>>(),
    intentHash: p.string().length(64),
    state: p.enum(CRITICAL_STATES),
    reason: p.string().length(500),
    requestedBy: p.uuid(),
    requestedAt: p.datetime(),
    /** Verification and approval must come before this (7 days). */
    expiresAt: p.datetime(),
    verifiedBy: p.uuid().nullable(),
    verifiedAt: p.datetime().nullable(),
    /** How the operator checked, out of band: { method, reference }. */
    verification: p.json<Record<string, unknown>>().nullable(),
    approvedBy: p.uuid().nullable(),
    approvedAt: p.datetime().nullable(),
    /** A transfer waits for the new owner until then (24 hours after approval). */
    acceptBy: p.datetime().nullable(),
    acceptedAt: p.datetime().nullable(),
    /** Not before: the end of the cooling-off (72 hours for a deletion), or the acceptance of a transfer. */
    executesAt: p.datetime().nullable(),
    executedAt: p.datetime().nullable(),
    /** A deleted company's data goes 30 days after execution, unless a legal hold keeps it. */
    purgeAt: p.datetime().nullable(),
    legalHold: p.boolean().default(false),
    closedAt: p.datetime().nullable(),
    closedBy: p.uuid().nullable(),
    closeReason: p.string().length(500).nullable(),
  },
});

export type CriticalOperation = InstanceType<typeof CriticalOperation.class>;

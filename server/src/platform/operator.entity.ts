import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * The seats platform operators may hold: rows 1 and 2, and a CHECK that no other can exist. Each operator
 * takes one (a unique foreign key), so a third operator is a constraint violation in the database itself,
 * whatever the code above it does. Deleting seat 2 lowers the cap to one; nothing can raise it above two.
 */
export const OperatorSlot = defineEntity({
  name: 'OperatorSlot',
  tableName: 'operator_slot',
  checks: [{ name: 'operator_slot_at_most_two', expression: 'slot in (1, 2)' }],
  properties: {
    slot: p.smallint().primary().autoincrement(false),
  },
});

export type OperatorSlot = InstanceType<typeof OperatorSlot.class>;

/** One of the vendor's (at most two) platform operators: no tenant, no tenant user, a realm of their own. */
export const PlatformOperator = defineEntity({
  name: 'PlatformOperator',
  tableName: 'platform_operator',
  properties: {
    id: p.uuid().primary(),
    slot: () => p.oneToOne(OperatorSlot).owner().fieldName('slot').unique().deleteRule('restrict'),
    email: p.string().length(254).unique(),
    displayName: p.string().length(100),
    passwordHash: p.string().length(200).hidden(),
    /** TOTP is mandatory for operators: set when the operator is created, AES-256-GCM with the server key. */
    totpSecretEnc: p.string().length(400).hidden(),
    totpLastStep: p.bigint('number').nullable(),
    createdAt: p.datetime(),
    /** A second operator works only once the first approved them; the first approves themselves by holding the server. */
    approvedAt: p.datetime().nullable(),
    approvedBy: p.uuid().nullable(),
    disabledAt: p.datetime().nullable(),
  },
});

export type PlatformOperator = InstanceType<typeof PlatformOperator.class>;

export const OPERATOR_SESSION_END_REASONS = ['signed_out', 'expired', 'disabled'] as const;

/** An operator's sign-in: idle 15 minutes, absolute 8 hours (OPERATOR_SESSION_POLICY). */
export const OperatorSession = defineEntity({
  name: 'OperatorSession',
  tableName: 'operator_session',
  properties: {
    id: p.uuid().primary(),
    operator: () => p.manyToOne(PlatformOperator).index(),
    secretHash: p.string().length(64).hidden(),
    createdAt: p.datetime(),
    lastSeenAt: p.datetime(),
    expiresAt: p.datetime(),
    steppedUpAt: p.datetime().nullable(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    endedAt: p.datetime().nullable(),
    endReason: p.enum(OPERATOR_SESSION_END_REASONS).nullable(),
  },
});

export type OperatorSession = InstanceType<typeof OperatorSession.class>;

import { defineEntity, p } from '@mikro-orm/postgresql';
import type { AlertRuleName, RuleOverride } from '../alerts/rules.ts';
import { tenantOwned } from '../db/tenancy.ts';

export const Tenant = defineEntity({
  name: 'Tenant',
  ...tenantOwned('tenant', { keyedBy: 'id', located: true }),
  properties: {
    id: p.uuid().primary(),
    slug: p.string().length(63).unique(),
    name: p.string().length(200),
    createdAt: p.datetime(),
    /** Session lifetimes, set by the owner within the bounds in sessions/session-policy.ts. */
    idleTimeoutSeconds: p.integer(),
    absoluteTimeoutSeconds: p.integer(),
    rotationIntervalSeconds: p.integer(),
    rotationGraceSeconds: p.integer(),
    apiKeyMaxAgeDays: p.integer(),
    /** The owner's changes to the security detectors' defaults (alerts/rules.ts), by rule. */
    alertRules: p.json<Partial<Record<AlertRuleName, RuleOverride>>>().defaultRaw(`'{}'`).onCreate(() => ({})),
    /** How long its journal is kept, in years (null: forever); enforced by audit/retention.ts. */
    journalRetentionYears: p.integer().nullable(),
    /** The signed checkpoint the journal starts from once older events were removed (0 and null: from its first event). */
    journalAnchorSeq: p.bigint('number').default(0),
    journalAnchorHash: p.string().length(64).nullable(),
    /** Set when its deletion executed: nobody signs in, no cookie, key or socket works, until the purge. */
    disabledAt: p.datetime().nullable(),
  },
});

export type Tenant = InstanceType<typeof Tenant.class>;

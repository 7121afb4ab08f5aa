import { z } from 'zod';

/**
 * The detectors' rules (issue 17; OPERATIONS.md §5: Auth0 Attack Protection, Okta ThreatInsight), each with
 * the default a company gets and the bounds its owner may set (alerts-settings.ts). A rule raises at most one
 * `security.alert` per subject (an address, an account, a session, a key, an actor, a grant) and window.
 */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlertRule {
  description: string;
  severity: Severity;
  /** How many of the subject's events within the window raise it (what a "many" counts is in the description). */
  threshold: number;
  windowSeconds: number;
  /** The threshold a company may set: a rule that fires on its first event has nothing to tune. */
  thresholdBounds: readonly [number, number];
  /** The window a company may set, in seconds (default: a minute to a week). */
  windowBounds?: readonly [number, number];
}

const MINUTES = 60;
const HOURS = 3600;
const DAYS = 86_400;

export const ALERT_RULES = {
  credential_stuffing: {
    description: 'Failed sign-ins over `threshold` different accounts from one address within the window.',
    severity: 'high',
    threshold: 20,
    windowSeconds: 10 * MINUTES,
    thresholdBounds: [3, 1000],
  },
  password_spraying: {
    description: 'Failed sign-ins to one account from `threshold` different addresses within the window (a distributed guess of its password).',
    severity: 'high',
    threshold: 10,
    windowSeconds: 10 * MINUTES,
    thresholdBounds: [3, 1000],
  },
  token_reuse: {
    description: 'A session token that had been rotated away from was presented: someone holds a copy of it; the session was ended.',
    severity: 'high',
    threshold: 1,
    windowSeconds: 10 * MINUTES,
    thresholdBounds: [1, 1],
  },
  api_key_new_network: {
    description: 'An API key was used from a network (IPv4 /24, IPv6 /48) it had never been used from.',
    severity: 'medium',
    threshold: 1,
    windowSeconds: 1 * HOURS,
    thresholdBounds: [1, 1],
  },
  mass_export: {
    description: 'One user or key downloaded `threshold` exports of the journal within the window.',
    severity: 'medium',
    threshold: 5,
    windowSeconds: 1 * HOURS,
    thresholdBounds: [2, 100],
  },
  privileged_role_granted: {
    description: 'A role gained roles.manage or users.manage, or a user was given such a role.',
    severity: 'medium',
    threshold: 1,
    windowSeconds: 1 * MINUTES,
    thresholdBounds: [1, 1],
  },
  support_access_used: {
    description: "A platform operator read the company's data under a support grant or a break-glass (once per grant).",
    severity: 'medium',
    threshold: 1,
    windowSeconds: 30 * DAYS,
    thresholdBounds: [1, 1],
    // A grant lasts up to weeks: one alert per grant, not one a week.
    windowBounds: [1 * DAYS, 90 * DAYS],
  },
  chain_verification_failed: {
    description: "The journal's hash chain or its signed checkpoints did not verify: an event was edited, removed or reordered, or history was rewritten.",
    severity: 'critical',
    threshold: 1,
    windowSeconds: 1 * HOURS,
    thresholdBounds: [1, 1],
  },
} as const satisfies Record<string, AlertRule>;

export type AlertRuleName = keyof typeof ALERT_RULES;
export const ALERT_RULE_NAMES = Object.keys(ALERT_RULES) as AlertRuleName[];

/** The windows a rule takes unless it says otherwise. */
export const WINDOW_BOUNDS = [1 * MINUTES, 7 * DAYS] as const;

/** What an owner may change of a rule: off, or its threshold and window (within the rule's bounds, alert-settings.ts). */
export const RuleOverrideSchema = z.object({
  enabled: z.boolean().default(true),
  threshold: z.number().int().optional(),
  windowSeconds: z.number().int().optional(),
});
export type RuleOverride = z.infer<typeof RuleOverrideSchema>;

/** A rule as a company has it: the defaults, with what its owner set. */
export interface EffectiveRule extends AlertRule {
  rule: AlertRuleName;
  enabled: boolean;
}

export function effectiveRule(rule: AlertRuleName, override: Partial<RuleOverride> | undefined): EffectiveRule {
  const defaults: AlertRule = ALERT_RULES[rule];
  return { ...defaults, windowBounds: defaults.windowBounds ?? WINDOW_BOUNDS, rule, enabled: override?.enabled ?? true, threshold: override?.threshold ?? defaults.threshold, windowSeconds: override?.windowSeconds ?? defaults.windowSeconds };
}

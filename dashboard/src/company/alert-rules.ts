import { gql } from '../lib/api.ts';

export type AlertRuleName =
  | 'CREDENTIAL_STUFFING'
  | 'PASSWORD_SPRAYING'
  | 'TOKEN_REUSE'
  | 'API_KEY_NEW_NETWORK'
  | 'MASS_EXPORT'
  | 'PRIVILEGED_ROLE_GRANTED'
  | 'SUPPORT_ACCESS_USED'
  | 'CHAIN_VERIFICATION_FAILED';

export type AlertSeverity = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** AlertRule of the API: a security detector as the company has it, with the threshold it may be given. */
export interface AlertRule {
  rule: AlertRuleName;
  description: string;
  severity: AlertSeverity;
  enabled: boolean;
  threshold: number;
  windowSeconds: number;
  thresholdMin: number;
  thresholdMax: number;
  windowMinSeconds: number;
  windowMaxSeconds: number;
}

/** UpdateAlertRuleInput of the API: what is left out keeps its value. */
export interface AlertRuleChange {
  rule: AlertRuleName;
  enabled?: boolean;
  threshold?: number;
  windowSeconds?: number;
}

export const ALERT_RULE_FIELDS = 'rule description severity enabled threshold windowSeconds thresholdMin thresholdMax windowMinSeconds windowMaxSeconds';

export async function loadAlertRules(): Promise<AlertRule[]> {
  return (await gql<{ alertRules: AlertRule[] }>(`query AlertRules { alertRules { ${ALERT_RULE_FIELDS} } }`)).alertRules;
}

/** The rule as it now stands; throws BAD_USER_INPUT naming `threshold` or `windowSeconds` when out of bounds. */
export async function updateAlertRule(input: AlertRuleChange): Promise<AlertRule> {
  return (await gql<{ updateAlertRule: AlertRule }>(`mutation UpdateAlertRule($i: UpdateAlertRuleInput!) { updateAlertRule(input: $i) { ${ALERT_RULE_FIELDS} } }`, { i: input }))
    .updateAlertRule;
}

export const RULE_NAMES: Record<AlertRuleName, string> = {
  CREDENTIAL_STUFFING: 'Credential stuffing',
  PASSWORD_SPRAYING: 'Password spraying',
  TOKEN_REUSE: 'Session token reuse',
  API_KEY_NEW_NETWORK: 'API key from a new network',
  MASS_EXPORT: 'Mass export',
  PRIVILEGED_ROLE_GRANTED: 'Privileged role granted',
  SUPPORT_ACCESS_USED: 'Support access used',
  CHAIN_VERIFICATION_FAILED: 'Journal chain verification failed',
};

/** A rule that raises on its first event: its threshold cannot be tuned, only the rule turned off or its window changed. */
export const isFixed = (rule: AlertRule) => rule.thresholdMin === rule.thresholdMax;

/** The API's windows: a minute to a week. */

/** The catalogue writes the threshold as `threshold`: the company's, as saved, here. */
export const describeRule = (rule: AlertRule) => rule.description.replaceAll('`threshold`', String(rule.threshold));

/** A window in the largest whole unit: "10 minutes", "1 hour", "30 days". */
export function describeWindow(seconds: number): string {
  const minutes = seconds / 60;
  const [count, unit] =
    minutes >= 1440 && minutes % 1440 === 0 ? [minutes / 1440, 'day']
    : minutes >= 60 && minutes % 60 === 0 ? [minutes / 60, 'hour']
    : Number.isInteger(minutes) ? [minutes, 'minute']
    : [seconds, 'second'];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

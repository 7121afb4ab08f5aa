import { Tenant } from '../tenants/tenant.entity.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { badInput } from '../errors.ts';
import { parseInput } from '../validation.ts';
import { ALERT_RULES, ALERT_RULE_NAMES, type AlertRuleName, type EffectiveRule, RuleOverrideSchema, effectiveRule } from './rules.ts';

/** Every rule as the company has it now, in catalogue order. */
export async function alertRules(work: Pick<ViewerWork, 'em' | 'viewer'>): Promise<EffectiveRule[]> {
  const tenant = await work.em.findOneOrFail(Tenant, work.viewer.tenantId, { fields: ['alertRules'] });
  return ALERT_RULE_NAMES.map((rule) => effectiveRule(rule, tenant.alertRules[rule]));
}

/**
 * The owner's change to one rule: off, or its threshold and window within its bounds. Applies to the next
 * detection, on every instance (they read it with each). Journalled with what it was and what it is.
 */
export async function updateAlertRule(work: ViewerWork, input: { rule: AlertRuleName; enabled?: boolean | null; threshold?: number | null; windowSeconds?: number | null }): Promise<EffectiveRule> {
  const tenant = await work.em.findOneOrFail(Tenant, work.viewer.tenantId);
  const before = effectiveRule(input.rule, tenant.alertRules[input.rule]);
  const override = parseInput(RuleOverrideSchema, {
    enabled: input.enabled ?? before.enabled,
    threshold: input.threshold ?? before.threshold,
    windowSeconds: input.windowSeconds ?? before.windowSeconds,
  });
  const [min, max] = ALERT_RULES[input.rule].thresholdBounds;
  const [shortest, longest] = before.windowBounds!;
  const problems = [
    ...(override.threshold! < min || override.threshold! > max ? [{ field: 'threshold', message: min === max ? `This rule raises on its first event: its threshold is ${min}.` : `Between ${min} and ${max}.` }] : []),
    ...(override.windowSeconds! < shortest || override.windowSeconds! > longest ? [{ field: 'windowSeconds', message: `Between ${describe(shortest)} and ${describe(longest)}.` }] : []),
  ];
  if (problems.length) throw badInput(problems);
  tenant.alertRules = { ...tenant.alertRules, [input.rule]: override };
  await work.em.flush();
  const after = effectiveRule(input.rule, override);
  const view = ({ enabled, threshold, windowSeconds }: EffectiveRule) => ({ enabled, threshold, windowSeconds });
  await work.journal.record({ action: 'tenant.alert_rule_updated', target: { type: 'tenant', id: tenant.id }, details: { rule: input.rule, before: view(before), after: view(after) } });
  return after;
}

/** 60 → "1 minute", 604800 → "7 days". */
function describe(seconds: number): string {
  const [unit, size] = seconds % 86_400 === 0 ? ['day', 86_400] : seconds % 3600 === 0 ? ['hour', 3600] : ['minute', 60];
  const n = seconds / (size as number);
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

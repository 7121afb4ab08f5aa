import { builder, enumOf } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { alertRules, updateAlertRule } from './alert-settings.ts';
import { ALERT_RULE_NAMES, type EffectiveRule, SEVERITIES } from './rules.ts';

const RuleNameEnum = enumOf('AlertRuleName', ALERT_RULE_NAMES, 'A security detector (each raises `security.alert` events with this name in details.rule).');
const SeverityEnum = enumOf('AlertSeverity', SEVERITIES);

const AlertRuleRef = builder.objectRef<EffectiveRule>('AlertRule').implement({
  description: 'A security detector as the company has it: its defaults, with what the owner changed.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    rule: t.field({ type: RuleNameEnum, resolve: (r) => r.rule }),
    description: t.exposeString('description'),
    severity: t.field({ type: SeverityEnum, resolve: (r) => r.severity }),
    enabled: t.exposeBoolean('enabled'),
    threshold: t.exposeInt('threshold'),
    windowSeconds: t.exposeInt('windowSeconds', { description: 'One alert per subject (an address, an account, a key…) within it.' }),
    thresholdMin: t.int({ resolve: (r) => r.thresholdBounds[0] }),
    thresholdMax: t.int({ resolve: (r) => r.thresholdBounds[1] }),
    windowMinSeconds: t.int({ resolve: (r) => r.windowBounds![0] }),
    windowMaxSeconds: t.int({ resolve: (r) => r.windowBounds![1] }),
  }),
});

const UpdateAlertRuleInput = builder.inputType('UpdateAlertRuleInput', {
  description: "What is left out keeps its value; the threshold and the window within the rule's bounds (alertRules).",
  fields: (t) => ({
    rule: t.field({ type: RuleNameEnum, required: true }),
    enabled: t.boolean(),
    threshold: t.int(),
    windowSeconds: t.int(),
  }),
});

builder.queryField('alertRules', (t) =>
  t.field({
    type: [AlertRuleRef],
    authScopes: { permission: 'audit.read' },
    resolve: (_root, _args, ctx) => alertRules({ em: tenantEmOf(ctx), viewer: viewerOf(ctx) }),
  }),
);

builder.mutationField('updateAlertRule', (t) =>
  t.field({
    type: AlertRuleRef,
    authScopes: { permission: 'tenant.settings' },
    args: { input: t.arg({ type: UpdateAlertRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, updateAlertRule, input),
  }),
);

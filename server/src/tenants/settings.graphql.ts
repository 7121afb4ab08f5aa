import { builder } from '../builder.ts';
import { asViewer } from '../unit-of-work.ts';
import { withoutNulls } from '../validation.ts';
import { updateApiKeyPolicy, updateSessionPolicy } from './settings.ts';
import { TenantRef } from './tenant.graphql.ts';

const SessionPolicyInput = builder.inputType('SessionPolicyInput', {
  description: 'Seconds. Bounds: idle 300–3600, absolute 3600–86400, rotation 60–3600, grace 5–120.',
  fields: (t) => ({
    idleTimeoutSeconds: t.int(),
    absoluteTimeoutSeconds: t.int(),
    rotationIntervalSeconds: t.int(),
    rotationGraceSeconds: t.int(),
  }),
});

const ApiKeyPolicyInput = builder.inputType('ApiKeyPolicyInput', {
  fields: (t) => ({ maxAgeDays: t.int({ required: true, description: 'Keys older than this are rotated automatically (default 182).' }) }),
});

builder.objectField(TenantRef, 'apiKeyMaxAgeDays', (t) => t.exposeInt('apiKeyMaxAgeDays'));

builder.mutationFields((t) => ({
  updateSessionPolicy: t.field({
    type: TenantRef,
    authScopes: { permission: 'tenant.settings' },
    args: { input: t.arg({ type: SessionPolicyInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, updateSessionPolicy, withoutNulls(input)),
  }),
  updateApiKeyPolicy: t.field({
    type: TenantRef,
    authScopes: { permission: 'tenant.settings' },
    args: { input: t.arg({ type: ApiKeyPolicyInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, updateApiKeyPolicy, input),
  }),
}));

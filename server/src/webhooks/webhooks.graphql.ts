import { randomUUID } from 'node:crypto';
import { builder, enumOf, sensitive } from '../builder.ts';
import { tenantEmOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { attempt } from './deliverer.ts';
import { createEndpoint, deleteEndpoint, findEndpoint, recordReplay, replayTarget, updateEndpoint } from './endpoints.ts';
import { type Outcome, succeeded } from './outbound.ts';
import { DELIVERY_STATES, WebhookDelivery } from './webhook-delivery.entity.ts';
import { ENDPOINT_STATES, PAYLOAD_FORMATS, WebhookEndpoint } from './webhook-endpoint.entity.ts';

/** Who manages a company's webhooks: they carry its journal out, as an export does. */
const WEBHOOK_SCOPES = { permission: 'audit.export' } as const;
const DELIVERIES_LISTED = 50;

const StateEnum = enumOf('WebhookEndpointState', ENDPOINT_STATES);
const FormatEnum = enumOf('WebhookPayloadFormat', PAYLOAD_FORMATS, "VIGIL: the entry as the JSONL export writes it; OCSF: the OCSF export's event.");
const DeliveryStateEnum = enumOf('WebhookDeliveryState', DELIVERY_STATES, 'DEAD: given up after ten attempts over three days; replayWebhookDelivery sends it again.');

const DeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeString('id', { description: 'The `webhook-id` header of every attempt: deduplicate on it.' }),
    seq: t.expose('seq', { type: 'SafeInt' }),
    action: t.exposeString('action'),
    state: t.field({ type: DeliveryStateEnum, resolve: (d) => d.state }),
    attempts: t.exposeInt('attempts'),
    lastStatus: t.exposeInt('lastStatus', { nullable: true, description: 'The HTTP status of the last attempt; null: no answer.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
  }),
});

const EndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint').implement({
  description: 'A receiver of the journal: Standard Webhooks deliveries, one event at a time in seq order, at least once.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    actions: t.exposeStringList('actions', { description: 'Empty: every action.' }),
    format: t.field({ type: FormatEnum, resolve: (e) => e.format }),
    state: t.field({ type: StateEnum, resolve: (e) => e.state }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    publicKey: t.exposeString('publicKey', { description: 'whpk_…: verifies the `v1a,` (Ed25519) signature, for a receiver that should hold no secret.' }),
    deliveredThroughSeq: t.expose('lastSeq', { type: 'SafeInt', description: 'Every event up to it is delivered or dead-lettered.' }),
    failedAttempts: t.exposeInt('attempts', { description: 'At the event after deliveredThroughSeq.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: [DeliveryRef],
      description: `The latest ${DELIVERIES_LISTED}, newest first.`,
      args: { state: t.arg({ type: DeliveryStateEnum }) },
      resolve: (endpoint, args, ctx) =>
        tenantEmOf(ctx).find(WebhookDelivery, { endpoint: endpoint.id, ...(args.state ? { state: args.state } : {}) }, { orderBy: { seq: 'desc' }, limit: DELIVERIES_LISTED }),
    }),
  }),
});

const CreatedRef = builder.objectRef<{ endpoint: WebhookEndpoint; secret: string }>('CreatedWebhookEndpoint').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    endpoint: t.field({ type: EndpointRef, resolve: (c) => c.endpoint }),
    secret: t.exposeString('secret', { description: 'whsec_…: verifies the `v1,` (HMAC-SHA256) signature. Shown once, never again.' }),
  }),
});

const TestRef = builder.objectRef<Outcome>('WebhookTest').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    ok: t.boolean({ resolve: succeeded }),
    status: t.exposeInt('status', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

const CreateInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'https:// (http:// outside production); public addresses only unless the operator allows private networks.' }),
    description: t.string(),
    actions: t.stringList({ description: 'The actions to receive (auditActions lists them); none: all.' }),
    format: t.field({ type: FormatEnum }),
  }),
});

const UpdateInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    state: t.field({ type: StateEnum, description: 'ACTIVE resumes (a disabled endpoint too, from where it stopped); PAUSED holds deliveries.' }),
    actions: t.stringList(),
    description: t.string(),
  }),
});

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [EndpointRef],
    authScopes: WEBHOOK_SCOPES,
    resolve: (_root, _args, ctx) => tenantEmOf(ctx).find(WebhookEndpoint, {}, { orderBy: { createdAt: 'asc' } }),
  }),
);

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreatedRef,
    authScopes: sensitive(WEBHOOK_SCOPES),
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      asViewer(ctx, createEndpoint, { url: input.url, description: input.description ?? undefined, actions: input.actions ?? undefined, format: input.format ?? undefined }),
  }),
  updateWebhookEndpoint: t.field({
    type: EndpointRef,
    authScopes: WEBHOOK_SCOPES,
    args: { input: t.arg({ type: UpdateInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, updateEndpoint, { id: String(input.id), state: input.state === 'disabled' ? null : input.state, actions: input.actions, description: input.description }),
  }),
  deleteWebhookEndpoint: t.field({
    type: EndpointRef,
    authScopes: WEBHOOK_SCOPES,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => asViewer(ctx, deleteEndpoint, String(id)),
  }),
  replayWebhookDelivery: t.field({
    type: DeliveryRef,
    authScopes: WEBHOOK_SCOPES,
    args: { id: t.arg.string({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const { delivery, endpoint, body } = await replayTarget(tenantEmOf(ctx), id);
      const outcome = await attempt(ctx.services, endpoint, delivery.id, body);
      return asViewer(ctx, recordReplay, { id, outcome });
    },
  }),
  testWebhookEndpoint: t.field({
    type: TestRef,
    description: 'Sends a `vigil.test` message now (signed like every delivery) and says what the receiver answered.',
    authScopes: WEBHOOK_SCOPES,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const endpoint = await findEndpoint({ em: tenantEmOf(ctx) }, String(id));
      const body = JSON.stringify({ type: 'vigil.test', timestamp: ctx.services.clock.now().toISOString(), data: { endpointId: endpoint.id } });
      return attempt(ctx.services, endpoint, `msg_test_${randomUUID()}`, body);
    },
  }),
}));

import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AUDIT_ACTIONS, isAuditAction } from '../audit/actions.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { ErrorCode, badInput, clientError } from '../errors.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { isUuid } from '../tokens.ts';
import { parseInput } from '../validation.ts';
import { fromEntity } from '../audit/feed.ts';
import { webhookBody } from './payload.ts';
import { type Outcome, RefusedDestination, succeeded, vetDestination } from './outbound.ts';
import { newEndpointKeys } from './signing.ts';
import { WebhookDelivery } from './webhook-delivery.entity.ts';
import { PAYLOAD_FORMATS, WebhookEndpoint } from './webhook-endpoint.entity.ts';

const companyAction = (action: string) => isAuditAction(action) && !(AUDIT_ACTIONS[action] as { platformOnly?: true }).platformOnly;

const ActionsSchema = z.array(z.string().max(80).refine(companyAction, 'Not an action of the journal (auditActions lists them).')).max(100);
const CreateSchema = z.object({
  url: z.string().min(1).max(2048),
  description: z.string().max(200).default(''),
  actions: ActionsSchema.default([]),
  format: z.enum(PAYLOAD_FORMATS).default('vigil'),
});
const UpdateSchema = z.object({
  id: z.string().uuid(),
  state: z.enum(['active', 'paused']).nullish(),
  actions: ActionsSchema.nullish(),
  description: z.string().max(200).nullish(),
});

/** Where it goes, as the journal says it: scheme, host and port; a path or query may hold the receiver's own token. */
const originOf = (url: string) => new URL(url).origin;

/** A new endpoint, receiving what the journal records from now on; its HMAC secret is returned once, here. */
export async function createEndpoint(work: ViewerWork, input: z.input<typeof CreateSchema>): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const parsed = parseInput(CreateSchema, input);
  const { webhooks, production } = work.services.config;
  await vetDestination(parsed.url, { allowPrivate: webhooks.allowPrivateNetworks, requireHttps: production }).catch((error: unknown) => {
    if (error instanceof RefusedDestination) throw badInput([{ field: 'url', message: error.message }]);
    throw error;
  });
  const keys = newEndpointKeys();
  const head = await work.em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] });
  const endpoint = work.em.create(WebhookEndpoint, {
    id: crypto.randomUUID(),
    tenant: work.viewer.tenantId,
    ...parsed,
    secretEnc: work.services.keys.encrypt(keys.secret),
    signingKeyEnc: work.services.keys.encrypt(keys.signingKeyPem),
    publicKey: keys.publicKey,
    state: 'active',
    disabledReason: null,
    // The endpoint's own creation is its first delivery.
    lastSeq: head?.seq ?? 0,
    attempts: 0,
    nextAttemptAt: null,
    leaseId: null,
    leasedUntil: null,
    createdAt: work.now,
    createdBy: work.viewer.user.id,
  });
  await work.em.flush();
  await work.journal.record({ action: 'webhook.endpoint_created', target: { type: 'webhook_endpoint', id: endpoint.id }, details: { origin: originOf(parsed.url), actions: parsed.actions, format: parsed.format } });
  return { endpoint, secret: keys.secret };
}

/** Pause, resume (a disabled endpoint too: it goes on from its cursor), or change what it receives. */
export async function updateEndpoint(work: ViewerWork, input: z.input<typeof UpdateSchema>): Promise<WebhookEndpoint> {
  const { id, state, actions, description } = parseInput(UpdateSchema, input);
  const endpoint = await findEndpoint(work, id);
  const before = { state: endpoint.state, actions: endpoint.actions };
  if (state) Object.assign(endpoint, { state, ...(state === 'active' ? { disabledReason: null, attempts: 0, nextAttemptAt: null } : {}) });
  if (actions) endpoint.actions = actions;
  if (description !== null && description !== undefined) endpoint.description = description;
  await work.em.flush();
  await work.journal.record({ action: 'webhook.endpoint_updated', target: { type: 'webhook_endpoint', id }, details: { before, after: { state: endpoint.state, actions: endpoint.actions } } });
  return endpoint;
}

export async function deleteEndpoint(work: ViewerWork, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findEndpoint(work, id);
  // Its deliveries go with it (the foreign key cascades): the journal keeps what was delivered.
  await work.em.remove(endpoint).flush();
  await work.journal.record({ action: 'webhook.endpoint_deleted', target: { type: 'webhook_endpoint', id }, details: { origin: originOf(endpoint.url) } });
  return endpoint;
}

/**
 * What replaying a dead-lettered delivery sends, read before any transaction opens: the POST (up to
 * WEBHOOK_TIMEOUT_MS) holds none. Its `webhook-id` is the delivery's own (the receiver may have half-seen it).
 */
export async function replayTarget(em: EntityManager, id: string): Promise<{ delivery: WebhookDelivery; endpoint: WebhookEndpoint; body: string }> {
  const delivery = id.length <= 64 ? await em.findOne(WebhookDelivery, { id }, { populate: ['endpoint'] }) : null;
  if (!delivery) throw clientError(ErrorCode.NOT_FOUND, 'No such delivery.');
  if (delivery.state !== 'dead') throw notDead();
  const event = await em.findOneOrFail(AuditEvent, { seq: delivery.seq });
  return { delivery, endpoint: delivery.endpoint, body: webhookBody(delivery.endpoint.format, fromEntity(event)) };
}

const notDead = () => badInput([{ field: 'id', message: 'Only a dead-lettered delivery is replayed: the others are still being delivered, or were.' }]);

/** The replay's outcome, recorded and journalled; a second failure leaves it in the list. */
export async function recordReplay(work: ViewerWork, { id, outcome }: { id: string; outcome: Outcome }): Promise<WebhookDelivery> {
  const delivery = await work.em.findOne(WebhookDelivery, { id }, { populate: ['endpoint'] });
  // Replayed meanwhile by someone else: theirs stands.
  if (!delivery || delivery.state !== 'dead') throw notDead();
  const delivered = succeeded(outcome);
  Object.assign(delivery, { state: delivered ? 'delivered' : 'dead', attempts: delivery.attempts + 1, lastStatus: outcome.status, lastError: outcome.error, lastAttemptAt: work.now, deliveredAt: delivered ? work.now : null });
  await work.em.flush();
  await work.journal.record({ action: 'webhook.delivery_replayed', outcome: delivered ? 'success' : 'failure', target: { type: 'webhook_endpoint', id: delivery.endpoint.id }, details: { deliveryId: id, seq: delivery.seq, status: outcome.status } });
  return delivery;
}

export async function findEndpoint(work: Pick<ViewerWork, 'em'>, id: string): Promise<WebhookEndpoint> {
  const endpoint = isUuid(id) ? await work.em.findOne(WebhookEndpoint, { id }) : null;
  if (!endpoint) throw clientError(ErrorCode.NOT_FOUND, 'No such webhook endpoint.');
  return endpoint;
}

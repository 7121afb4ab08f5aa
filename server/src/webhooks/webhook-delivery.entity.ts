import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { WebhookEndpoint } from './webhook-endpoint.entity.ts';

export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One event's delivery to one endpoint, with its last attempt: what the Integrations screen lists. Its id is
 * the `webhook-id` every attempt carries, so a receiver deduplicates. `dead`: given up after the retries, and
 * replayable (replayWebhookDelivery).
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  ...tenantOwned('webhook_delivery'),
  properties: {
    id: p.string().length(64).primary(),
    tenant: () => p.manyToOne(Tenant),
    endpoint: () => p.manyToOne(WebhookEndpoint).deleteRule('cascade'),
    seq: p.bigint('number'),
    action: p.string().length(80),
    state: p.enum(DELIVERY_STATES),
    attempts: p.integer(),
    lastStatus: p.integer().nullable(),
    lastError: p.string().length(300).nullable(),
    lastAttemptAt: p.datetime(),
    deliveredAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['endpoint', 'seq'] }],
});

export type WebhookDelivery = InstanceType<typeof WebhookDelivery.class>;

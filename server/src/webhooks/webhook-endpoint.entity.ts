import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

export const ENDPOINT_STATES = ['active', 'paused', 'disabled'] as const;
export type EndpointState = (typeof ENDPOINT_STATES)[number];
export const PAYLOAD_FORMATS = ['vigil', 'ocsf'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/**
 * A company's receiver of its journal (issue 17). The journal is the outbox: each endpoint keeps a cursor
 * (lastSeq: every event up to it is delivered, or dead-lettered), so an event committed is an event that will
 * be delivered, whatever crashes. An instance leases the endpoint (leaseId, leasedUntil) to deliver what follows
 * the cursor, one event at a time in seq order. Located: vigil_webhooks_due finds the due ones of every company.
 */
export const WebhookEndpoint = defineEntity({
  name: 'WebhookEndpoint',
  ...tenantOwned('webhook_endpoint', { located: true }),
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    url: p.string().length(2048),
    description: p.string().length(200),
    /** The actions it receives; empty: all of them. */
    actions: p.array().default([]),
    format: p.enum(PAYLOAD_FORMATS),
    /** whsec_… (HMAC-SHA256) and the Ed25519 signing key, encrypted with the server key; shown once. */
    secretEnc: p.string().length(400).hidden(),
    signingKeyEnc: p.string().length(400).hidden(),
    /** whpk_…: the Ed25519 public key of the second signature, public. */
    publicKey: p.string().length(100),
    state: p.enum(ENDPOINT_STATES),
    disabledReason: p.string().length(200).nullable(),
    lastSeq: p.bigint('number'),
    /** Failed attempts at the event after lastSeq, and when the next is due. */
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().nullable(),
    leaseId: p.uuid().nullable(),
    leasedUntil: p.datetime().nullable(),
    createdAt: p.datetime(),
    createdBy: p.uuid(),
  },
});

export type WebhookEndpoint = InstanceType<typeof WebhookEndpoint.class>;

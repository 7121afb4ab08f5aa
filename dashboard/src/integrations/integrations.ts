import { gql } from '../lib/api.ts';

/** WebhookEndpoint of the API: a receiver of the journal (schema/schema.graphql). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** Empty: every action. */
  actions: string[];
  format: WebhookFormat;
  state: EndpointState;
  disabledReason: string | null;
  /** whpk_…: verifies the `v1a,` (Ed25519) signature; not a secret. */
  publicKey: string;
  /** Every event up to it is delivered or dead-lettered. */
  deliveredThroughSeq: number;
  /** At the event after deliveredThroughSeq. */
  failedAttempts: number;
  nextAttemptAt: string | null;
  createdAt: string;
}

export interface WebhookDelivery {
  /** The `webhook-id` header of every attempt. */
  id: string;
  seq: number;
  action: string;
  state: DeliveryState;
  attempts: number;
  /** Null: no answer. */
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string;
  deliveredAt: string | null;
}

export type EndpointState = 'ACTIVE' | 'PAUSED' | 'DISABLED';
export type DeliveryState = 'PENDING' | 'DELIVERED' | 'DEAD';
export type WebhookFormat = 'VIGIL' | 'OCSF';

export interface NewEndpoint {
  url: string;
  description: string;
  actions: string[];
  format: WebhookFormat;
}

/** What the API answers to a test message: ok is a 2xx answer. */
export interface WebhookTest {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export const ENDPOINT_FIELDS = 'id url description actions format state disabledReason publicKey deliveredThroughSeq failedAttempts nextAttemptAt createdAt';
const DELIVERY_FIELDS = 'id seq action state attempts lastStatus lastError lastAttemptAt deliveredAt';

export const FORMATS: Array<{ value: WebhookFormat; name: string; label: string }> = [
  { value: 'VIGIL', name: 'Vigil', label: 'Vigil (as the JSONL export)' },
  { value: 'OCSF', name: 'OCSF', label: 'OCSF (as the OCSF export)' },
];

export const ENDPOINT_STATES: Record<EndpointState, string> = { ACTIVE: 'active', PAUSED: 'paused', DISABLED: 'disabled' };
export const DELIVERY_STATES: Record<DeliveryState, string> = { PENDING: 'pending', DELIVERED: 'delivered', DEAD: 'dead' };

export async function listEndpoints(): Promise<WebhookEndpoint[]> {
  return (await gql<{ webhookEndpoints: WebhookEndpoint[] }>(`query WebhookEndpoints { webhookEndpoints { ${ENDPOINT_FIELDS} } }`)).webhookEndpoints;
}

/**
 * A new endpoint and its HMAC secret, which the API returns exactly once. As for API keys, the answer carrying
 * the secret selects little: the list is read again afterwards anyway.
 */
export async function createEndpoint(input: NewEndpoint): Promise<{ secret: string; endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'publicKey'> }> {
  const query = `mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url publicKey } } }`;
  return (await gql<{ createWebhookEndpoint: { secret: string; endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'publicKey'> } }>(query, { input })).createWebhookEndpoint;
}

/** Pauses (PAUSED) or resumes (ACTIVE: a disabled endpoint too, from where it stopped). */
export async function setEndpointState(id: string, state: 'ACTIVE' | 'PAUSED'): Promise<void> {
  await gql(`mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { id state } }`, { input: { id, state } });
}

export async function deleteEndpoint(id: string): Promise<void> {
  await gql(`mutation DeleteWebhookEndpoint($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id });
}

export async function testEndpoint(id: string): Promise<WebhookTest> {
  return (await gql<{ testWebhookEndpoint: WebhookTest }>(`mutation TestWebhookEndpoint($id: ID!) { testWebhookEndpoint(id: $id) { ok status error } }`, { id })).testWebhookEndpoint;
}

/** The latest deliveries to one endpoint (50 at most, newest first), of one state or all. */
export async function listDeliveries(endpointId: string, state: DeliveryState | null): Promise<WebhookDelivery[]> {
  const query = `query WebhookDeliveries($state: WebhookDeliveryState) { webhookEndpoints { id deliveries(state: $state) { ${DELIVERY_FIELDS} } } }`;
  const data = await gql<{ webhookEndpoints: Array<{ id: string; deliveries: WebhookDelivery[] }> }>(query, { state });
  return data.webhookEndpoints.find((endpoint) => endpoint.id === endpointId)?.deliveries ?? [];
}

/** A dead-lettered delivery sent again now; its state says whether the receiver took it this time. */
export async function replayDelivery(id: string): Promise<WebhookDelivery> {
  const query = `mutation ReplayWebhookDelivery($id: String!) { replayWebhookDelivery(id: $id) { ${DELIVERY_FIELDS} } }`;
  return (await gql<{ replayWebhookDelivery: WebhookDelivery }>(query, { id })).replayWebhookDelivery;
}

/** What the receiver answered, as a sentence. */
export function describeAnswer(answer: { status: number | null; error: string | null }): string {
  if (answer.status !== null) return `Receiver answered ${answer.status}.`;
  return `No answer from the receiver: ${(answer.error ?? 'it could not be reached').replace(/\.$/, '')}.`;
}

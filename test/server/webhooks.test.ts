import { createPublicKey, verify } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RETRY_AFTER_SECONDS, deliverDueWebhooks } from '../../server/src/webhooks/deliverer.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeySet } from '../../server/src/server-keys.ts';
import { GraphQLClient } from '../support/client.ts';
import { startVigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';
import { bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Webhooks (issue 17): a company's journal delivered to its own tools, Standard Webhooks signed (checked here
 * with the `standardwebhooks` package, as a receiver would), one event at a time in seq order, at least once,
 * through a receiver that fails, leaves (410) or never comes back; never to a private address unless the
 * operator allows it, never following a redirect.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

/**
 * A receiver on loopback: each company's endpoint has a path of its own, whose requests it keeps and answers
 * with the next status planned for that path (200 once the plan is spent).
 */
class Receiver {
  readonly received: Received[] = [];
  readonly plans = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body, path: req.url ?? '' });
        const status = this.plans.get(req.url ?? '')?.shift() ?? 200;
        // 0: no answer ever (the caller dies waiting, or gives up).
        if (status === 0) return;
        if (status === 302) res.writeHead(302, { location: `${this.url}/elsewhere` }).end();
        else res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  from(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }
}

const CREATE = 'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id state publicKey deliveredThroughSeq } } }';
const ENDPOINT = 'query { webhookEndpoints { id state disabledReason failedAttempts deliveredThroughSeq deliveries { id seq state attempts lastStatus } } }';

let vigil: TestVigil;
let receiver: Receiver;

beforeAll(async () => {
  vigil = await startVigil({ env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  receiver = new Receiver();
  await receiver.start();
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await receiver?.stop();
});

async function companyWithEndpoint(input: Record<string, unknown> = {}) {
  const owner = await signUpTenant(vigil.client());
  const client = bearerClient(vigil, owner.token);
  const path = `/hooks/${owner.slug}`;
  const created = (await client.ok(CREATE, { i: { url: `${receiver.url}${path}`, ...input } })).createWebhookEndpoint;
  return {
    owner,
    client,
    secret: created.secret as string,
    endpoint: created.endpoint as { id: string; publicKey: string; deliveredThroughSeq: number },
    received: () => receiver.from(path),
    plan: (statuses: number[]) => receiver.plans.set(path, statuses),
  };
}

const bodies = (received: Received[]) => received.map((r) => JSON.parse(r.body) as { type: string; timestamp: string; data: { seq: number; action: string; hash: string } });
const endpointOf = async (client: GraphQLClient) => (await client.ok(ENDPOINT)).webhookEndpoints[0];

/** The receiver's check, with the standardwebhooks package, of a delivery's timestamp against the deployment's clock. */
function verifiedByReceiver(secret: string, delivery: Received): unknown {
  const realNow = Date.now.bind(Date);
  const offset = vigil.clock.now().getTime() - realNow();
  Date.now = () => realNow() + offset;
  try {
    return new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
  } finally {
    Date.now = realNow;
  }
}

describe('deliveries', () => {
  test('each event after the endpoint was made is delivered once, in seq order, signed both ways, and the secret is shown once only', async () => {
    const { owner, client, secret, endpoint, received } = await companyWithEndpoint();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await writeEvents(vigil, owner.tenantId, 3, 'test.delivered');
    await deliverDueWebhooks(vigil.services);
    const delivered = bodies(received());
    const journal = await auditRows(vigil, owner.tenantId);
    expect(delivered.map((b) => b.data.seq)).toEqual(journal.filter((row) => Number(row.seq) > endpoint.deliveredThroughSeq).map((row) => Number(row.seq)));
    expect(delivered.map((b) => b.type)).toEqual(['webhook.endpoint_created', 'test.delivered', 'test.delivered', 'test.delivered']);
    for (const delivery of received()) {
      expect(verifiedByReceiver(secret, delivery)).toMatchObject({ type: expect.any(String) });
      const ed25519 = String(delivery.headers['webhook-signature']).split(' ').find((part) => part.startsWith('v1a,'))!.slice(4);
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(endpoint.publicKey.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
      const signed = `${delivery.headers['webhook-id']}.${delivery.headers['webhook-timestamp']}.${delivery.body}`;
      expect(verify(null, Buffer.from(signed), publicKey, Buffer.from(ed25519, 'base64'))).toBe(true);
    }
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(received()[0].body, received()[0].headers as Record<string, string>)).toThrow();
    await deliverDueWebhooks(vigil.services);
    expect(received()).toHaveLength(delivered.length);
    expect(JSON.stringify(await auditRows(vigil, owner.tenantId))).not.toContain(secret.slice(6));
    expect(JSON.stringify(await client.ok(ENDPOINT))).not.toContain(secret.slice(6));
  });

  test('a receiver down for three attempts (the clock moved past each retry) then gets every event exactly once, in order', async () => {
    const { owner, client, secret, received, plan } = await companyWithEndpoint();
    await writeEvents(vigil, owner.tenantId, 4, 'test.retried');
    const statuses = [503, 500, 503];
    plan([...statuses]);
    for (const wait of [0, RETRY_AFTER_SECONDS[0], RETRY_AFTER_SECONDS[1], RETRY_AFTER_SECONDS[2]]) {
      vigil.clock.advance(wait);
      await deliverDueWebhooks(vigil.services);
      if (wait < RETRY_AFTER_SECONDS[2]) expect((await endpointOf(client)).deliveries).toEqual([expect.objectContaining({ state: 'PENDING', lastStatus: statuses[received().length - 1] })]);
    }
    const accepted = received().slice(statuses.length);
    for (const delivery of accepted) verifiedByReceiver(secret, delivery);
    const seqs = bodies(accepted).map((b) => b.data.seq);
    expect(seqs).toHaveLength(5);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(accepted.map((r) => r.headers['webhook-id'])).size).toBe(5);
    expect(bodies(accepted).map((b) => b.type)).toEqual(['webhook.endpoint_created', ...Array(4).fill('test.retried')]);
    // The retried event kept its webhook-id through its four attempts.
    expect(new Set(received().slice(0, 4).map((r) => r.headers['webhook-id'])).size).toBe(1);
    const state = await endpointOf(client);
    expect(state).toMatchObject({ state: 'ACTIVE', failedAttempts: 0 });
    expect(state.deliveries.map((d: { attempts: number; state: string }) => [d.state, d.attempts])).toEqual([['DELIVERED', 1], ['DELIVERED', 1], ['DELIVERED', 1], ['DELIVERED', 1], ['DELIVERED', 4]]);
  });

  test('410 Gone disables the endpoint at once, the owner is told, and resuming it delivers from where it stopped', async () => {
    const { owner, client, endpoint, received, plan } = await companyWithEndpoint();
    await writeEvents(vigil, owner.tenantId, 2, 'test.gone');
    plan([410]);
    await deliverDueWebhooks(vigil.services);
    vigil.clock.advance(120);
    await deliverDueWebhooks(vigil.services);
    expect(received()).toHaveLength(1);
    expect(await endpointOf(client)).toMatchObject({ state: 'DISABLED', disabledReason: expect.stringContaining('410 Gone') });
    const disabled = (await auditRows(vigil, owner.tenantId)).filter((row) => row.action === 'webhook.endpoint_disabled');
    expect(disabled).toEqual([expect.objectContaining({ target_id: endpoint.id, details: expect.objectContaining({ status: 410 }) })]);
    await client.ok('mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, state: ACTIVE }) { state } }', { id: endpoint.id });
    await deliverDueWebhooks(vigil.services);
    expect(bodies(received().slice(1)).map((b) => b.type)).toEqual(['webhook.endpoint_created', 'test.gone', 'test.gone', 'webhook.endpoint_disabled', 'webhook.endpoint_updated']);
  });

  test('ten failures over three days dead-letter the event and disable the endpoint; the replay delivers it with the same webhook-id', async () => {
    const { owner, endpoint, received, plan } = await companyWithEndpoint();
    await writeEvents(vigil, owner.tenantId, 1, 'test.dead');
    plan(Array(10).fill(500));
    await deliverDueWebhooks(vigil.services);
    for (const wait of RETRY_AFTER_SECONDS) {
      vigil.clock.advance(wait);
      await deliverDueWebhooks(vigil.services);
    }
    expect(RETRY_AFTER_SECONDS.reduce((sum, s) => sum + s, 0) / 86_400).toBeGreaterThan(2.5);
    expect(received()).toHaveLength(10);
    // Three days on, the owner's session has long ended: a fresh sign-in.
    const client = bearerClient(vigil, (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token);
    const state = await endpointOf(client);
    expect(state).toMatchObject({ state: 'DISABLED', disabledReason: expect.stringContaining('dead-letter') });
    const [dead] = (await client.ok('query { webhookEndpoints { deliveries(state: DEAD) { id seq attempts lastStatus } } }')).webhookEndpoints[0].deliveries;
    expect(dead).toMatchObject({ attempts: 10, lastStatus: 500 });
    const replayed = (await client.ok('mutation($id: String!) { replayWebhookDelivery(id: $id) { state attempts lastStatus } }', { id: dead.id })).replayWebhookDelivery;
    expect(replayed).toEqual({ state: 'DELIVERED', attempts: 11, lastStatus: 200 });
    expect(received().at(-1)!.headers['webhook-id']).toBe(dead.id);
    const journal = await auditRows(vigil, owner.tenantId);
    expect(journal.filter((row) => row.action === 'webhook.endpoint_disabled')).toHaveLength(1);
    expect(journal.find((row) => row.action === 'webhook.delivery_replayed')).toMatchObject({ target_id: endpoint.id, details: { deliveryId: dead.id, seq: dead.seq, status: 200 } });
    const again = await client.request('mutation($id: String!) { replayWebhookDelivery(id: $id) { state } }', { id: dead.id });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    // Deleted, it goes with its deliveries, and the journal says so.
    expect((await client.ok('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }', { id: endpoint.id })).deleteWebhookEndpoint.id).toBe(endpoint.id);
    expect((await client.ok(ENDPOINT)).webhookEndpoints).toEqual([]);
    expect((await auditRows(vigil, owner.tenantId)).at(-1)).toMatchObject({ action: 'webhook.endpoint_deleted', target_id: endpoint.id });
  });

  test('a redirect is not followed: it is a failed attempt, and the place it points to is never called', async () => {
    const { owner, client, received, plan } = await companyWithEndpoint();
    await writeEvents(vigil, owner.tenantId, 1, 'test.redirected');
    plan([302]);
    await deliverDueWebhooks(vigil.services);
    expect(received()).toHaveLength(1);
    expect(receiver.from('/elsewhere')).toEqual([]);
    expect((await endpointOf(client)).deliveries[0]).toMatchObject({ state: 'PENDING', lastStatus: 302 });
  });

  test('an endpoint that asked for some actions gets those alone, and what it skips is not due again', async () => {
    const { owner, client, received } = await companyWithEndpoint({ actions: ['session.sign_in_failed'] });
    await writeEvents(vigil, owner.tenantId, 3, 'test.skipped');
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'wrong-password-1' });
    await writeEvents(vigil, owner.tenantId, 2, 'test.skipped');
    await deliverDueWebhooks(vigil.services);
    expect(bodies(received()).map((b) => b.type)).toEqual(['session.sign_in_failed']);
    const head = (await auditRows(vigil, owner.tenantId)).at(-1)!;
    expect((await endpointOf(client)).deliveredThroughSeq).toBe(Number(head.seq));
    const bad = await client.request(CREATE, { i: { url: `${receiver.url}/x`, actions: ['made.up'] } });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'actions.0', message: expect.stringContaining('auditActions') }] } });
  });

  test("another company's endpoints, deliveries and replays are out of reach", async () => {
    const a = await companyWithEndpoint();
    const b = await signUpTenant(vigil.client());
    const intruder = bearerClient(vigil, b.token);
    expect((await intruder.ok(ENDPOINT)).webhookEndpoints).toEqual([]);
    const update = await intruder.request('mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, state: PAUSED }) { state } }', { id: a.endpoint.id });
    expect(update.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const test = await intruder.request('mutation($id: ID!) { testWebhookEndpoint(id: $id) { ok } }', { id: a.endpoint.id });
    expect(test.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });
});

describe('where webhooks may go (SSRF)', () => {
  let guarded: TestVigil;
  beforeAll(async () => {
    guarded = await startVigil();
  }, 60_000);
  afterAll(async () => guarded?.stop());

  test('loopback, private, link-local (cloud metadata) and unique-local addresses, and names that resolve to them, are refused', async () => {
    const owner = await signUpTenant(guarded.client());
    const client = bearerClient(guarded, owner.token);
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://10.1.2.3/hook', 'http://192.168.0.10/hook', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:9/hook', 'http://[fd00::1]/hook', 'http://100.64.0.1/hook', 'http://[::ffff:127.0.0.1]/hook', 'http://0.0.0.0/hook']) {
      const answer = await client.request(CREATE, { i: { url } });
      expect({ url, error: answer.errors?.[0]?.extensions }).toEqual({ url, error: expect.objectContaining({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'url', message: expect.stringContaining('public addresses only') })] }) });
    }
    for (const url of ['ftp://example.com/x', 'http://user:pass@example.com/x', 'not a url']) {
      expect((await client.request(CREATE, { i: { url } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect((await client.ok(ENDPOINT)).webhookEndpoints).toEqual([]);
  });

  test('an employee without audit.export cannot register one', async () => {
    const owner = await signUpTenant(guarded.client());
    const employee = await inviteEmployee(bearerClient(guarded, owner.token), 'Employee');
    const answer = await employee.client.request(CREATE, { i: { url: 'https://siem.example.com/hook' } });
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });
});

describe('a Vigil killed mid-delivery', () => {
  test('loses nothing: the next Vigil on the same database delivers the interrupted event again, same webhook-id, and everything after it, in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-webhook-kill-'));
    const keys = writeKeySet(join(dataDir, 'keys'));
    const env = { ...keys, VIGIL_DATA_DIR: join(dataDir, 'db'), WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOKS_INTERVAL_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000' };
    const first = await startVigilProcess(env);
    let second: Awaited<ReturnType<typeof startVigilProcess>> | null = null;
    try {
      const owner = await signUpTenant(new GraphQLClient(first.url));
      const path = `/hooks/killed-${owner.slug}`;
      receiver.plans.set(path, [0]);
      const client = new GraphQLClient(first.url);
      client.bearer = owner.token;
      await client.ok(CREATE, { i: { url: `${receiver.url}${path}` } });
      for (let i = 0; i < 3; i++) await signIn(new GraphQLClient(first.url), { tenantSlug: owner.slug, email: `nobody-${i}@acme.test`, password: 'wrong-password-1' });
      await waitFor(() => receiver.from(path).length === 1, 15_000);
      first.kill('SIGKILL');
      await waitFor(() => first.exited(), 10_000);
      second = await startVigilProcess(env);
      const again = new GraphQLClient(second.url);
      again.bearer = owner.token;
      const head = async () => Number((await again.ok('{ auditEvents(first: 1) { edges { node { seq } } } }')).auditEvents.edges[0].node.seq);
      const created = bodies(receiver.from(path))[0];
      expect(created.type).toBe('webhook.endpoint_created');
      await waitFor(async () => new Set(receiver.from(path).map((r) => r.headers['webhook-id'])).size >= 4, 30_000, 100);
      const target = await head();
      await waitFor(async () => bodies(receiver.from(path)).some((b) => b.data.seq === target), 30_000, 100);
      const received = receiver.from(path);
      expect(received[1].headers['webhook-id']).toBe(received[0].headers['webhook-id']);
      const unique = [...new Map(received.map((r) => [r.headers['webhook-id'], JSON.parse(r.body) as { data: { seq: number } }])).values()].map((b) => b.data.seq);
      expect(unique).toEqual(Array.from({ length: target - created.data.seq + 1 }, (_, i) => created.data.seq + i));
    } finally {
      first.kill('SIGKILL');
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

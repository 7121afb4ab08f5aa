import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Locator, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RETRY_AFTER_SECONDS, deliverDueWebhooks } from '../../server/src/webhooks/deliverer.ts';
import { PHONE, type Stack, proveItIsMe, screenshot, signInThroughUi, startStack } from './harness.ts';

/**
 * The Integrations screen (issue 17): the owner adds a webhook endpoint, sees its secret once, sends a test
 * message, pauses and resumes it; a receiver that keeps failing gets it disabled with its event dead-lettered,
 * and the owner replays that event once the receiver is back.
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on loopback that keeps what it is sent and answers `status`. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  url = '';
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** What the deliverer sent (the test messages left out). */
  deliveries(): Received[] {
    return this.received.filter((r) => !String(r.headers['webhook-id']).startsWith('msg_test_'));
  }
}

let stack: Stack;
let page: Page;
let receiver: Receiver;
let url: string;
let secret: string;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  url = `${receiver.url}/siem`;
  // The receiver listens on loopback, which Vigil refuses unless the operator allows private networks.
  stack = await startStack({ env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  ({ page } = await stack.open());
  await signInThroughUi(page, stack.owner);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

const go = async (link: string, heading: string) => {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
};
const card = () => page.locator(`article[data-endpoint="${url}"]`);
const stepUp = () => page.getByRole('dialog', { name: 'Confirm it is you' });

/** Adding an endpoint is sensitive: the owner signed in just now, so the proof should hold; if not, prove it. */
async function proveIfAsked(expected: Locator): Promise<void> {
  await expected.or(stepUp()).first().waitFor();
  if (await stepUp().isVisible()) await proveItIsMe(page);
  await expected.waitFor();
}

describe('Integrations', () => {
  test('the screen is listed after API keys, explains itself, and starts empty', async () => {
    const links = await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
    expect(links.indexOf('Integrations')).toBe(links.indexOf('API keys') + 1);
    await go('Integrations', 'Integrations');
    await page.getByText(/Webhooks deliver the journal to your own tools/).waitFor();
    await page.getByText('No endpoints yet: add one to receive the journal in your SIEM.').waitFor();
  });

  test('a refused URL is said next to the URL field', async () => {
    const form = page.getByRole('form', { name: 'Add an endpoint' });
    await form.getByLabel('URL').fill('ftp://127.0.0.1/siem');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const problem = form.getByText('Use an http:// or https:// URL.');
    await proveIfAsked(problem);
    const field = form.getByLabel('URL');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await problem.getAttribute('id')).toBe(await field.getAttribute('aria-describedby'));
    await form.getByRole('alert').waitFor();
  });

  test('the owner adds an endpoint for two actions and sees its secret once, with its public key', async () => {
    const form = page.getByRole('form', { name: 'Add an endpoint' });
    await form.getByLabel('URL').fill(url);
    // Edited, the URL is no longer what was refused: its problem goes.
    await form.getByText('Use an http:// or https:// URL.').waitFor({ state: 'detached' });
    expect(await form.getByRole('alert').count()).toBe(0);
    await form.getByLabel('Description').fill('Security monitoring');
    await form.locator('summary', { hasText: 'Actions to receive' }).click();
    await form.getByRole('checkbox', { name: 'webhook.endpoint_created', exact: true }).check();
    await form.getByRole('checkbox', { name: 'webhook.endpoint_updated', exact: true }).check();
    await form.getByText('2 chosen').waitFor();
    await screenshot(page, 'integrations-actions');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const region = page.getByRole('region', { name: `Signing secret of ${url}` });
    await proveIfAsked(region.getByText('shown this once'));
    secret = await region.getByTestId('secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await region.getByRole('button', { name: 'Copy' }).waitFor();
    await page.locator('.public-key').getByText(/^whpk_/).waitFor();
    await page.getByText(`Endpoint added: events recorded from now on go to ${url}.`).waitFor();
    // The form is ready for the next one, its field problem gone.
    expect(await form.getByLabel('URL').inputValue()).toBe('');
    expect(await form.getByLabel('URL').getAttribute('aria-invalid')).toBeNull();

    await card().waitFor();
    expect(await card().getAttribute('data-state')).toBe('ACTIVE');
    expect(await card().locator('.receives li').allTextContents()).toEqual(['webhook.endpoint_created', 'webhook.endpoint_updated']);
    await card().getByRole('heading', { name: /Security monitoring/ }).waitFor();
    await screenshot(page, 'integrations-new-endpoint');

    // Away and back: the secret is nowhere on the page; the endpoint and its public key are.
    await go('API keys', 'API keys');
    await go('Integrations', 'Integrations');
    await card().waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(await card().getByText(/^whpk_/).textContent()).toMatch(/^whpk_/);
  });

  test('Send test: the receiver answers 200, and got a signed message', async () => {
    await card().getByRole('button', { name: /^Send test/ }).click();
    await card().getByText('Receiver answered 200.').waitFor();
    const test = receiver.received.at(-1)!;
    expect(test.headers['webhook-id']).toMatch(/^msg_test_/);
    expect(test.headers['webhook-signature']).toBeTruthy();
    expect(JSON.parse(test.body).type).toBe('vigil.test');
    // Signed with the secret shown once, as a Standard Webhooks receiver checks it.
    expect(() => new Webhook(secret).verify(test.body, test.headers as Record<string, string>)).not.toThrow();
  });

  test('pauses and resumes the endpoint', async () => {
    await card().getByRole('button', { name: /^Pause/ }).click();
    await expect.poll(() => card().getAttribute('data-state')).toBe('PAUSED');
    await card().getByText('paused', { exact: true }).waitFor();
    await card().getByText('Held while paused').waitFor();
    await page.getByText(`Deliveries to ${url} paused: events wait until you resume.`).waitFor();
    await card().getByRole('button', { name: /^Resume/ }).click();
    await expect.poll(() => card().getAttribute('data-state')).toBe('ACTIVE');
    await card().getByText('active', { exact: true }).waitFor();
    await card().getByRole('button', { name: /^Pause/ }).waitFor();
  });

  test('a receiver failing for three days gets the endpoint disabled and its event dead-lettered; Replay delivers it', async () => {
    // Background jobs are off in tests: each pass of the deliverer runs here, on the stack's clock.
    receiver.status = 500;
    await deliverDueWebhooks(stack.vigil.services);
    for (const seconds of RETRY_AFTER_SECONDS) {
      stack.vigil.clock.advance(seconds);
      await deliverDueWebhooks(stack.vigil.services);
    }
    const attempts = receiver.deliveries();
    expect(attempts).toHaveLength(RETRY_AFTER_SECONDS.length + 1);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    expect(JSON.parse(attempts[0].body).type).toBe('webhook.endpoint_created');

    // Three days on, the browser's session is long over: sign in again.
    await page.reload();
    await signInThroughUi(page, stack.owner);
    await go('Integrations', 'Integrations');
    await expect.poll(() => card().getAttribute('data-state')).toBe('DISABLED');
    await card().getByText('disabled', { exact: true }).waitFor();
    await card().getByText(/Ten attempts over three days failed; the last: 500/).waitFor();
    expect(await card().getByRole('button', { name: /^Resume/ }).count()).toBe(1);

    const toggle = card().getByRole('button', { name: /^Deliveries/ });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const deliveries = page.getByRole('region', { name: `Deliveries to ${url}` });
    const dead = deliveries.locator('tr[data-state="DEAD"]');
    await dead.waitFor();
    await dead.getByText('webhook.endpoint_created').waitFor();
    expect(await dead.locator('td[data-label="Attempts"]').textContent()).toBe(String(RETRY_AFTER_SECONDS.length + 1));
    expect(await dead.locator('td[data-label="Last answer"]').textContent()).toBe('500');
    const seq = await dead.getAttribute('data-seq');

    // Only dead-lettered ones, then all again.
    await deliveries.getByLabel('Show').selectOption('DEAD');
    await expect.poll(() => deliveries.locator('tbody tr').count()).toBe(1);
    await deliveries.getByLabel('Show').selectOption('');

    receiver.status = 200;
    await dead.getByRole('button', { name: `Replay event #${seq}` }).click();
    await deliveries.getByText(`Event #${seq} delivered. Receiver answered 200.`).waitFor();
    const delivered = deliveries.locator(`tr[data-seq="${seq}"]`);
    await expect.poll(() => delivered.getAttribute('data-state')).toBe('DELIVERED');
    expect(await delivered.getByRole('button', { name: /^Replay/ }).count()).toBe(0);
    // The replay carries the same webhook-id: a receiver that half-saw it deduplicates.
    const replayed = receiver.deliveries().at(-1)!;
    expect(receiver.deliveries()).toHaveLength(RETRY_AFTER_SECONDS.length + 2);
    expect(replayed.headers['webhook-id']).toBe(attempts[0].headers['webhook-id']);

    await screenshot(page, 'integrations');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'integrations-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('deletes the endpoint after a confirmation', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await card().getByRole('button', { name: /^Delete/ }).click();
    const deleted = page.getByText(`Endpoint ${url} deleted.`);
    await deleted.or(page.getByRole('alert')).first().waitFor();
    expect(await page.getByRole('alert').allTextContents()).toEqual([]);
    await card().waitFor({ state: 'detached' });
    await page.getByText('No endpoints yet: add one to receive the journal in your SIEM.').waitFor();
  });
});

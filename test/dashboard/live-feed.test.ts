import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signIn } from '../support/factories.ts';
import { PHONE, type Stack, screenshot, signInThroughUi, startStack } from './harness.ts';

let stack: Stack;
let page: Page;
/** The afterSeq of every subscribe message the page sent, in order. */
const subscribedAfter: Array<number | null> = [];

beforeAll(async () => {
  stack = await startStack();
  ({ page } = await stack.open());
  // Keeps a handle on the page's sockets so a test can cut the connection as a network would.
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    const sockets: WebSocket[] = [];
    Object.assign(window, { testSockets: sockets });
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
  });
  page.on('websocket', (socket) =>
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.type === 'subscribe') subscribedAfter.push(message.payload.variables?.afterSeq ?? null);
    }),
  );
  await signInThroughUi(page, stack.owner);
  await page.getByRole('link', { name: 'Live feed' }).click();
  // The socket connected (through the server's CSP and Origin check) and the subscription is open.
  await page.locator('[data-state="live"]').waitFor();
}, 120_000);
afterAll(async () => stack?.stop());

/** Resolves when a row for `action` is on screen, failing after `ms` measured from `startedAt`. */
async function rowAppears(action: string, startedAt: number, ms = 1000) {
  const row = page.locator(`tr[data-action="${action}"]`).first();
  await row.waitFor({ timeout: Math.max(1, startedAt + ms - Date.now()) });
  return { row, elapsedMs: Date.now() - startedAt };
}

describe('live feed', () => {
  test('an action done through the API in another session appears within a second', async () => {
    const startedAt = Date.now();
    await stack.owner.api.ok(`mutation { createApiKey(input: { name: "feed probe", permissions: [] }) { key { id } } }`);
    const { elapsedMs } = await rowAppears('api_key.created', startedAt);
    expect(elapsedMs).toBeLessThan(1000);
  });

  test('failed sign-ins stand out', async () => {
    const startedAt = Date.now();
    await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: stack.owner.email, password: 'wrong password, surely' });
    const { row } = await rowAppears('session.sign_in_failed', startedAt);
    await expect.poll(() => row.getAttribute('class')).toContain('alert');
    await expect.poll(() => row.getByText('Alert').isVisible()).toBe(true);
    await screenshot(page, 'feed');
  });

  test('filters by action, outcome and IP', async () => {
    await page.getByLabel('Action').fill('session.sign_in_failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('table.events tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-action')).toBe('session.sign_in_failed');

    // A matching event still arrives live; one that does not match stays out.
    const startedAt = Date.now();
    await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: stack.owner.email, password: 'wrong again, surely' });
    await stack.owner.api.ok(`mutation { createApiKey(input: { name: "unmatched", permissions: [] }) { key { id } } }`);
    await expect.poll(() => rows.count(), { timeout: 1000 }).toBe(2);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(await page.locator('tr[data-action="api_key.created"]').count()).toBe(0);

    await page.getByLabel('Action').fill('');
    await page.getByLabel('Outcome').selectOption('SUCCESS');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(async () => (await rows.allInnerTexts()).every((text) => /success/i.test(text))).toBe(true);
    expect(await page.locator('tr[data-action="session.sign_in_failed"]').count()).toBe(0);

    await page.getByLabel('IP address').fill('192.0.2.250');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByText('No matching events yet').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.locator('tr[data-action="session.sign_in_failed"]').count()).toBe(2);
  });

  test('pause keeps new events off the screen until resumed', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await stack.owner.api.ok(`mutation { createApiKey(input: { name: "while paused", permissions: [] }) { key { id } } }`);
    const resume = page.getByRole('button', { name: /Resume \(\d+ new\)/ });
    await resume.waitFor();
    const before = await page.locator('tr[data-action="api_key.created"]').count();
    await resume.click();
    await expect.poll(() => page.locator('tr[data-action="api_key.created"]').count()).toBe(before + 1);
  });

  test('the connection state is announced politely', async () => {
    const status = page.locator('[data-state]');
    expect(await status.getAttribute('aria-live')).toBe('polite');
    expect(await status.textContent()).toContain('Live');
  });

  test('after a reconnect the feed resumes from the last seq: no gap, no duplicate', async () => {
    const seqsOnScreen = () => page.locator('table.events tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    const lastSeq = Math.max(...(await seqsOnScreen()));
    expect(subscribedAfter).toHaveLength(1);
    await page.evaluate(() => (window as unknown as { testSockets: WebSocket[] }).testSockets.at(-1)!.close(4499, 'test: connection cut'));
    await page.locator('[data-state="reconnecting"]').waitFor();
    // Committed while the feed is disconnected.
    await stack.owner.api.ok(`mutation { createApiKey(input: { name: "while offline", permissions: [] }) { key { id } } }`);
    await page.locator('[data-state="live"]').waitFor();
    await expect.poll(() => subscribedAfter).toEqual([subscribedAfter[0], lastSeq]);
    await stack.owner.api.ok(`mutation { createApiKey(input: { name: "after reconnect", permissions: [] }) { key { id } } }`);
    await expect.poll(async () => (await seqsOnScreen()).filter((seq) => seq > lastSeq).length).toBeGreaterThanOrEqual(3);
    const seqs = (await seqsOnScreen()).toReversed();
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
  });

  test('at phone width', async () => {
    await page.setViewportSize(PHONE);
    await screenshot(page, 'feed-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});

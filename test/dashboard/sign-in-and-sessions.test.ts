import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { STRONG_PASSWORD } from '../support/factories.ts';
import { type Stack, addEmployee, ownerElsewhere as ownerElsewhereOf, pageSessionId, screenshot, signInThroughUi, startStack } from './harness.ts';

let stack: Stack;
let page: Page;
const PROTECTED = '{ viewer { sessions { id } } users { id } }';

beforeAll(async () => {
  stack = await startStack();
  ({ page } = await stack.open());
}, 120_000);
afterAll(async () => stack?.stop());

const ownerElsewhere = () => ownerElsewhereOf(stack);

describe('signing in', () => {
  test('a wrong password is refused with a message', async () => {
    await page.goto('/');
    await page.getByLabel('Company').fill(stack.owner.slug);
    await page.getByLabel('Email').fill(stack.owner.email);
    await page.getByLabel('Password').fill('not the password at all');
    await screenshot(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong/i);
  });

  test('signs in, and keeps no secret where scripts could read it', async () => {
    await signInThroughUi(page, stack.owner);
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
    expect(storage).toEqual({ local: 0, session: 0, cookie: '' });
  });

  test('the keyboard reaches the skip link and the screens', async () => {
    await page.reload();
    await page.getByRole('navigation', { name: 'Screens' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const sessionsLink = page.getByRole('link', { name: 'Sessions' });
    for (let i = 0; i < 12 && !(await sessionsLink.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sessions');
  });

  test('with confirmation codes on, the TOTP step finishes signing in', async () => {
    const officer = await addEmployee(stack, 'Security officer', 'officer@acme.test', 'Sam Officer');
    const enrollment = await officer.api.ok<{ enrollTotp: { secret: string } }>(`mutation($p: String!) { enrollTotp(currentPassword: $p) { secret } }`, { p: STRONG_PASSWORD });
    const secret = enrollment.enrollTotp.secret;
    await officer.api.ok(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: await generate({ secret }) });

    const { page: other, context } = await stack.open();
    await other.goto('/');
    await other.getByLabel('Company').fill(stack.owner.slug);
    await other.getByLabel('Email').fill(officer.email);
    await other.getByLabel('Password').fill(STRONG_PASSWORD);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByLabel('Code', { exact: true }).waitFor();
    await screenshot(other, 'sign-in-totp');
    // The confirmation used this step's code; a code is accepted once, so use the next step's.
    await other.getByLabel('Code', { exact: true }).fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await other.getByRole('button', { name: 'Confirm' }).click();
    await other.getByRole('navigation', { name: 'Screens' }).waitFor();
    expect(await other.locator('.top .who').textContent()).toContain('Sam Officer');
    await context.close();
  });
});

describe('sessions', () => {
  test("ending one of the user's own sessions really ends it", async () => {
    const elsewhere = await ownerElsewhere();
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.reload();
    const row = page.locator(`tr[data-session="${elsewhere.sessionId}"]`);
    await row.waitFor();
    await screenshot(page, 'sessions');
    await row.getByRole('button', { name: /End session/ }).click();
    await row.waitFor({ state: 'detached' });
    expect(errorCode(await elsewhere.api.request(PROTECTED))).toBe('UNAUTHENTICATED');
  });

  test('"end all other sessions" leaves only this one', async () => {
    const [a, b] = [await ownerElsewhere(), await ownerElsewhere()];
    await page.reload();
    await page.locator(`tr[data-session="${b.sessionId}"]`).waitFor();
    await page.getByRole('button', { name: 'End all other sessions' }).click();
    await page.getByText(/other sessions? ended/).waitFor();
    for (const other of [a, b]) expect(errorCode(await other.api.request(PROTECTED))).toBe('UNAUTHENTICATED');
    await expect.poll(() => page.locator('table.sessions').first().locator('tbody tr').count()).toBe(1);
  });

  test("with the permission, an employee's sessions can be ended from the company list", async () => {
    const clerk = await addEmployee(stack, 'Employee', 'clerk@acme.test', 'Cleo Clerk');
    await page.reload();
    const panel = page.locator('[data-member="clerk@acme.test"]');
    await panel.locator(`tr[data-session="${clerk.sessionId}"]`).waitFor();
    await panel.getByRole('button', { name: "End all of Cleo Clerk's sessions" }).click();
    await panel.getByText('No active session.').waitFor();
    expect(errorCode(await clerk.api.request('{ apiKeys { id } }'))).toBe('UNAUTHENTICATED');
  });
});

describe('the session ending elsewhere', () => {
  test('revoked while the live feed is open: back to sign-in with a clear message', async () => {
    await page.getByRole('link', { name: 'Live feed' }).click();
    await page.locator('[data-state="live"]').waitFor();
    const browserSession = await pageSessionId(page);
    const admin = await ownerElsewhere();
    await admin.api.ok(`mutation($id: ID!) { revokeSession(id: $id) { id } }`, { id: browserSession });
    await page.getByText(/session has ended/i).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in-session-ended');
  });

  test('revoked while on another screen: the next action leads to sign-in', async () => {
    await signInThroughUi(page, stack.owner);
    await page.getByRole('link', { name: 'Sessions' }).click();
    const admin = await ownerElsewhere();
    await admin.api.ok(`mutation($id: ID!) { revokeSession(id: $id) { id } }`, { id: await pageSessionId(page) });
    await page.getByRole('button', { name: 'End all other sessions' }).click();
    await page.getByText(/session has ended/i).waitFor();
  });

  test('signing out ends the session and says so', async () => {
    await signInThroughUi(page, stack.owner);
    const id = await pageSessionId(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    const { viewer } = await stack.vigil.client().ok<{ viewer: unknown }>('{ viewer { user { id } } }');
    expect(viewer).toBeNull();
    const admin = await ownerElsewhere();
    const sessions = await admin.api.ok<{ viewer: { sessions: Array<{ id: string }> } }>('{ viewer { sessions { id } } }');
    expect(sessions.viewer.sessions.map((s) => s.id)).not.toContain(id);
  });

  // Last: it moves the server's clock for every session of this file.
  test('expiring while the dashboard sits idle: back to sign-in with a clear message', async () => {
    const { page: idle, context } = await stack.open();
    // The browser's clock is faked so half an hour can pass at once; the server's is moved alike.
    await idle.clock.install();
    await signInThroughUi(idle, stack.owner);
    await idle.getByRole('link', { name: 'Sessions' }).click();
    await idle.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    stack.vigil.clock.advance(31 * 60);
    await idle.clock.fastForward('31:00');
    await idle.getByText('Your session expired. Sign in again to continue.').waitFor();
    await context.close();
  });
});

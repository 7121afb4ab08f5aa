import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateAgedApiKeys } from '../../server/src/api-keys/rotation-job.ts';
import { signIn } from '../support/factories.ts';
import { PHONE, type Stack, ownerElsewhere, proveItIsMe, screenshot, signInThroughUi, startStack } from './harness.ts';

let stack: Stack;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  // Something worth looking at: failed sign-ins from another address, over as many accounts as the owner's
  // credential-stuffing threshold, lowered to its least: a security alert.
  await stack.owner.api.ok('mutation { updateAlertRule(input: { rule: CREDENTIAL_STUFFING, threshold: 3 }) { threshold } }');
  for (let i = 0; i < 3; i++) await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: `intruder${i}@acme.test`, password: 'guessing' });
  await stack.vigil.services.alerts.idle();
  ({ page } = await stack.open());
  await signInThroughUi(page, stack.owner);
}, 120_000);
afterAll(async () => stack?.stop());

const go = async (link: string, heading: string) => {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
};

describe('overview', () => {
  test('renders both charts and the counts that need attention', async () => {
    await go('Overview', 'Overview');
    const perMinute = page.locator('figure[data-chart^="Events per minute"] svg rect');
    const perHour = page.locator('figure[data-chart^="Failed sign-ins per hour"] svg rect');
    await expect.poll(() => perMinute.count()).toBe(60);
    expect(await perHour.count()).toBe(24);
    // The failed sign-ins of beforeAll show as a bar of non-zero height and as a count.
    const heights = await perHour.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(Math.max(...heights)).toBeGreaterThan(0);
    expect(Number(await page.locator('[data-count="failedSignIns"]').textContent())).toBe(3);
    expect(Number(await page.locator('[data-count="securityAlerts"]').textContent())).toBe(1);
    await screenshot(page, 'overview');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'overview-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('an attention count opens the journal on its events', async () => {
    await page.locator('[data-count="failedSignIns"]').click();
    await page.getByRole('heading', { name: 'Journal', level: 1 }).waitFor();
    await expect.poll(() => page.locator('table.events tbody tr').count()).toBe(3);
    const actions = await page.locator('table.events tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(new Set(actions)).toEqual(new Set(['session.sign_in_failed']));
  });

  test('the security alert opens the journal on it, with its rule and severity', async () => {
    await go('Overview', 'Overview');
    await page.locator('[data-count="securityAlerts"]').click();
    await page.getByRole('heading', { name: 'Journal', level: 1 }).waitFor();
    const rule = page.locator('table.events tbody tr[data-action="security.alert"] [data-rule="credential_stuffing"]');
    await rule.waitFor();
    expect(await rule.textContent()).toBe('credential stuffing · high');
    expect(await page.locator('table.events tbody tr').count()).toBe(1);
  });
});

describe('journal', () => {
  test('shows the chain verification with the last checkpoint', async () => {
    await go('Journal', 'Journal');
    const chain = page.getByTestId('chain-status');
    await chain.getByText('Chain intact').waitFor();
    expect(await chain.textContent()).toMatch(/Last checkpoint: (#\d+ at .+|none yet)/);
  });

  test('searches with filters and pages through the results', async () => {
    await page.getByLabel('Outcome').selectOption('SUCCESS');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?outcome=SUCCESS');
    await expect.poll(async () => (await page.locator('table.events tbody tr').allInnerTexts()).every((t) => /success/i.test(t))).toBe(true);
    await page.getByRole('button', { name: 'Clear' }).click();
    // Enough events for a second page of 25.
    const admin = (await ownerElsewhere(stack)).api;
    for (let i = 0; i < 26; i++) await admin.ok(`mutation($n: String!) { createApiKey(input: { name: $n, permissions: [] }) { key { id } } }`, { n: `k${i}` });
    await page.getByLabel('Action').fill('api_key.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('table.events tbody tr').count()).toBe(25);
    const firstPage = await page.locator('table.events tbody tr').first().getAttribute('data-seq');
    await page.getByRole('button', { name: 'Older →' }).click();
    await expect.poll(() => page.locator('table.events tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: '← Newer' }).click();
    await expect.poll(() => page.locator('table.events tbody tr').first().getAttribute('data-seq')).toBe(firstPage);
    await screenshot(page, 'journal');
  });

  test("the action filter suggests exactly the API's catalogue, and alerts are highlighted from it", async () => {
    const catalogue = (await (await ownerElsewhere(stack)).api.ok('{ auditActions { action alert } }')).auditActions as Array<{ action: string; alert: boolean }>;
    const suggested = await page.locator('form.filters datalist option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(suggested).toEqual(catalogue.map((a) => a.action));
    await page.getByLabel('Action').fill('session.sign_in_failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('table.events tbody tr.alert').count()).toBeGreaterThan(0);
    expect(catalogue.find((a) => a.action === 'session.sign_in_failed')?.alert).toBe(true);
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  test('exports the matching events as CSV and as JSONL', async () => {
    for (const format of ['CSV', 'JSONL']) {
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: `Export ${format}` }).click();
      const file = await (await download).path();
      const text = await readFile(file, 'utf8');
      expect(text.trim().split('\n').length).toBeGreaterThanOrEqual(26);
      expect(text).toContain('api_key.created');
    }
  });
});

describe('employees and roles', () => {
  test('invites an employee and shows the invitation token once', async () => {
    await go('Employees & roles', 'Employees & roles');
    await page.getByLabel('Email', { exact: true }).fill('new.hire@acme.test');
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    expect((await secret.inputValue()).length).toBeGreaterThan(20);
    await screenshot(page, 'people');
    await page.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
  });

  test('the role editor shows the permission catalogue with descriptions, and saves a role', async () => {
    await page.getByRole('button', { name: 'New role' }).click();
    const editor = page.getByRole('form', { name: 'New role' });
    await editor.getByText('audit.read').waitFor();
    expect(await editor.textContent()).toContain('Read the action journal');
    await editor.getByLabel('Name').fill('Auditor');
    await editor.getByRole('checkbox', { name: /audit\.read/ }).check();
    await screenshot(page, 'role-editor');
    await editor.getByRole('button', { name: 'Save role' }).click();
    await page.locator('[data-role="Auditor"]').waitFor();
  });

  test('changes an employee role, disables and enables them', async () => {
    const admin = (await ownerElsewhere(stack)).api;
    const { roles } = await admin.ok<{ roles: Array<{ id: string; name: string }> }>('{ roles { id name } }');
    const invited = await admin.ok<{ inviteUser: { token: string } }>('mutation($r: ID!) { inviteUser(email: "eve@acme.test", roleId: $r) { token } }', { r: roles.find((r) => r.name === 'Employee')!.id });
    await stack.vigil.client().ok('mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }', {
      i: { token: invited.inviteUser.token, password: 'correct horse battery staple', displayName: 'Eve Example' },
    });
    await page.reload();
    const row = page.locator('tr[data-employee="eve@acme.test"]');
    await row.getByLabel('Role of Eve Example').selectOption({ label: 'Auditor' });
    await row.getByRole('button', { name: 'Change role' }).click();
    await page.getByText('Eve Example has a new role.').waitFor();
    await row.getByRole('button', { name: 'Disable Eve Example' }).click();
    await row.getByText('disabled', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Enable Eve Example' }).click();
    await row.getByText('active', { exact: true }).waitFor();
    const { users } = await admin.ok<{ users: Array<{ email: string; role: { name: string } }> }>('{ users { email role { name } } }');
    expect(users.find((u) => u.email === 'eve@acme.test')?.role.name).toBe('Auditor');
  });

  test('shows an account locked by failed sign-ins and unlocks it', async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      stack.vigil.clock.advance(61);
      await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: 'eve@acme.test', password: `wrong guess ${attempt}` });
    }
    expect((await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: 'eve@acme.test' })).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    await page.reload();
    const row = page.locator('tr[data-employee="eve@acme.test"]');
    await row.getByText('locked', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Unlock Eve Example' }).click();
    await page.getByText('Eve Example can sign in again.').waitFor();
    expect((await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: 'eve@acme.test' })).errors).toBeUndefined();
  });

  test("the owner resets an employee's password: the token is shown once and the old password stops", async () => {
    const row = page.locator('tr[data-employee="eve@acme.test"]');
    // The lockout above moved the clock past the sign-in's proof: the reset asks for it, and a cancel changes nothing.
    await row.getByRole('button', { name: 'Reset password of Eve Example' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    await screenshot(page, 'step-up');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('This needs you to confirm it is you. Nothing was changed.').waitFor();
    expect((await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: 'eve@acme.test' })).errors).toBeUndefined();
    // Confirmed, the very same reset goes ahead without a second click.
    await row.getByRole('button', { name: 'Reset password of Eve Example' }).click();
    await proveItIsMe(page);
    const secret = page.getByRole('region', { name: 'Password reset token for Eve Example' }).getByTestId('secret');
    const token = await secret.inputValue();
    expect(token).toMatch(/^[0-9a-f-]{36}\./);
    expect((await signIn(stack.vigil.client(), { tenantSlug: stack.owner.slug, email: 'eve@acme.test' })).errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    await page.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
    const done = await stack.vigil.client().ok('mutation($i: CompletePasswordResetInput!) { completePasswordReset(input: $i) { user { email } } }', {
      i: { token, newPassword: 'correct horse battery staple' },
    });
    expect(done.completePasswordReset.user.email).toBe('eve@acme.test');
  });
});

describe('API keys', () => {
  test('creating a key shows its secret once, with a copy button', async () => {
    await go('API keys', 'API keys');
    await page.getByLabel('Name').fill('Browser-made key');
    await page.getByRole('checkbox', { name: 'audit.read' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('secret').inputValue();
    expect(secret).toMatch(/^vgl_/);
    await page.getByRole('region', { name: /Secret of Browser-made key/ }).getByRole('button', { name: 'Copy' }).waitFor();
    await screenshot(page, 'api-keys');
    // The secret works, and once dismissed it is nowhere on the page, even after a reload.
    const integration = stack.vigil.client();
    integration.bearer = secret;
    expect(await integration.ok('{ auditEvents(first: 1) { edges { node { seq } } } }')).toBeTruthy();
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.locator('tr[data-key="Browser-made key"]').waitFor();
    expect(await page.content()).not.toContain(secret);
  });

  test('rotates and revokes a key', async () => {
    const row = page.locator('tr[data-key="Browser-made key"]');
    await row.getByRole('button', { name: 'Rotate Browser-made key' }).click();
    await page.getByRole('region', { name: /New secret of Browser-made key/ }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('tr[data-key="Browser-made key"]').filter({ hasText: 'active' }).getByRole('button', { name: /^Revoke/ }).click();
    await expect.poll(() => page.locator('tr[data-key="Browser-made key"]').filter({ hasText: 'revoked' }).count()).toBe(1);
  });

  test('reveals a key that Vigil rotated automatically, once', async () => {
    const admin = (await ownerElsewhere(stack)).api;
    await admin.ok('mutation { createApiKey(input: { name: "Old integration", permissions: [] }) { key { id } } }');
    await admin.ok('mutation { updateApiKeyPolicy(input: { maxAgeDays: 1 }) { id } }');
    const later = { now: () => new Date(Date.now() + 2 * 86_400_000) };
    expect(await rotateAgedApiKeys({ ...stack.vigil.services, clock: later }, 60)).toBeGreaterThan(0);
    await go('API keys', 'API keys');
    await page.reload();
    await page.getByRole('button', { name: 'Reveal new secret of Old integration' }).click();
    expect(await page.getByTestId('secret').inputValue()).toMatch(/^vgl_/);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Reveal new secret of Old integration' }).count()).toBe(0);
  });
});

describe('account', () => {
  test('sets up confirmation codes with a QR code shown as an image', async () => {
    await go('Account', 'Account');
    await page.getByLabel('Your password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Set up' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(await qr.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'account');
  });
});

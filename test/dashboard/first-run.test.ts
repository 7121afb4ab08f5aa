import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STRONG_PASSWORD } from '../support/factories.ts';
import { type Stack, screenshot, startStack } from './harness.ts';

type BareStack = Omit<Stack, 'owner'>;

const passwordField = (page: Page) => page.getByLabel('Password', { exact: true });

async function fillCompany(page: Page, company: { name: string; slug?: string; password: string }) {
  await page.getByLabel('Company name').fill(company.name);
  if (company.slug) await page.getByLabel('Address').fill(company.slug);
  await page.getByLabel('Your name').fill('Olga Owner');
  await page.getByLabel('Email').fill('owner@acme.test');
  await passwordField(page).fill(company.password);
}

describe('a fresh installation', () => {
  let stack: BareStack;
  beforeAll(async () => {
    stack = await startStack({ withOwner: false });
  }, 120_000);
  afterAll(async () => stack?.stop());

  test('opens on "Create your company", creates it, and signs its owner in', async () => {
    const { page, context } = await stack.open();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Create your company', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-up');

    // The address follows the name until it is edited by hand.
    await page.getByLabel('Company name').pressSequentially('Acme Widgets & Co');
    expect(await page.getByLabel('Address').inputValue()).toBe('acme-widgets-co');

    await fillCompany(page, { name: 'Acme Widgets', password: 'short' });
    expect(await page.getByLabel('Address').inputValue()).toBe('acme-widgets');
    await expect.poll(() => page.locator('#sign-up-password-length').textContent()).toBe('5 of at least 12 characters.');
    await page.getByRole('button', { name: 'Create company' }).click();

    const password = passwordField(page);
    await expect.poll(() => password.getAttribute('aria-invalid')).toBe('true');
    const problemId = (await password.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-problem'))!;
    expect(await page.locator(`#${problemId}`).textContent()).toBe('Use at least 12 characters.');
    await screenshot(page, 'first-run');

    await password.fill(STRONG_PASSWORD);
    expect(await password.getAttribute('aria-invalid')).toBeNull();
    await page.getByRole('button', { name: 'Create company' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await page.locator('.top .who').textContent()).toContain('Olga Owner');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Create a company' }).click();
    await page.getByRole('heading', { name: 'Create your company', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  test('a taken address is said next to the address field', async () => {
    const { page, context } = await stack.open();
    await page.goto('/');
    // A company exists now: the dashboard opens on sign-in.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Create a company' }).click();
    await fillCompany(page, { name: 'Another Acme', slug: 'acme-widgets', password: STRONG_PASSWORD });
    await page.getByRole('button', { name: 'Create company' }).click();
    const address = page.getByLabel('Address');
    await expect.poll(() => address.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#sign-up-tenantSlug-problem').textContent()).toMatch(/This address is taken/);
    expect(await address.getAttribute('aria-describedby')).toContain('sign-up-tenantSlug-problem');
    await context.close();
  });
});

describe('with sign-up closed', () => {
  let stack: BareStack;
  beforeAll(async () => {
    stack = await startStack({ withOwner: false, env: { SIGN_UP: 'closed' } });
  }, 120_000);
  afterAll(async () => stack?.stop());

  test('sign-in offers no sign-up, and /sign-up says it is closed', async () => {
    const { page, context } = await stack.open();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('link', { name: 'Create a company' }).count()).toBe(0);

    await page.goto('/sign-up');
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/Sign-up is closed/);
    expect(await page.getByRole('button', { name: 'Create company' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Sign in instead' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });
});

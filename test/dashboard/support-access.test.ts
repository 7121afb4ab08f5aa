/**
 * Support access from both sides (issue 15), in Chromium against a real Vigil and PostgreSQL: the owner grants it on
 * the Company screen, an operator opens a session in the console, each read shows live to the owner, an administrator
 * revokes it; a break-glass of both operators, shown to the owner at their next sign-in.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { errorCode } from '../support/client.ts';
import { signedInOperator } from '../support/operator-console.ts';
import {
  PHONE, type Stack, addEmployee, operatorSignInThroughUi, proveAsOperator, proveItIsMe, screenshot, signInThroughUi, startStack,
} from './harness.ts';

let stack: Stack;
let olga: CreatedOperator;
let pavel: CreatedOperator;
let admin: Awaited<ReturnType<typeof addEmployee>>;
/** The owner's dashboard, on the Company screen from the first test on. */
let owner: Page;
/** Olga's console. */
let console1: Page;
let grantId: string;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  olga = await createOperator(stack.vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
  pavel = await createOperator(stack.vigil.services, { email: 'pavel@vendor.test', displayName: 'Pavel Operator' });
  await (await signedInOperator(stack.vigil, olga)).ok('mutation($id: ID!) { approveOperator(id: $id) { id } }', { id: pavel.id });
  admin = await addEmployee(stack, 'Administrator', 'ada@acme.test', 'Ada Admin');
  ({ page: owner } = await stack.open());
  ({ page: console1 } = await stack.open());
  await signInThroughUi(owner, stack.owner);
}, 120_000);
afterAll(async () => stack?.stop());

const supportRegion = (page: Page) => page.getByRole('region', { name: 'Support access' });
const accessRows = (page: Page) => supportRegion(page).getByRole('table', { name: 'Each access' }).locator('tbody tr');
const opsRow = (page: Page, id: string) => page.locator(`tr[data-grant="${id}"]`);

async function companyScreen(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Company' }).click();
  await page.getByRole('heading', { name: 'Company', level: 1 }).waitFor();
  await supportRegion(page).locator('[data-state="live"]').waitFor();
}

async function supportGrantsScreen(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Support grants' }).click();
  await page.getByRole('heading', { name: 'Support grants', level: 1 }).waitFor();
}

async function noSideways(page: Page, shot: string): Promise<void> {
  await page.setViewportSize(PHONE);
  await screenshot(page, shot);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('a grant of the owner', () => {
  test('the owner grants it on the Company screen: scopes, case, reason, 8 hours by default, after a step-up', async () => {
    await companyScreen(owner);
    const region = supportRegion(owner);
    const form = region.getByRole('form', { name: 'Grant support access' });
    expect(await form.getByLabel('Hours').inputValue()).toBe('8');
    await form.getByLabel('Reason').fill('Customer reports failing sign-ins');
    await form.getByLabel('Case reference').fill('CASE-4711');
    await form.getByRole('checkbox', { name: 'Journal' }).check();
    await form.getByRole('checkbox', { name: 'People (users and sessions, metadata)' }).check();
    await screenshot(owner, 'company-support-form');

    stack.vigil.clock.advance(301); // the sign-in's proof is older than five minutes
    await form.getByRole('button', { name: 'Grant support access' }).click();
    await owner.getByRole('dialog', { name: 'Confirm it is you' }).waitFor();
    await screenshot(owner, 'company-support-step-up');
    await proveItIsMe(owner);
    await region.getByRole('status').getByText('Support access granted for case CASE-4711, for 8 hours.').waitFor();

    const [grant] = (await stack.owner.api.ok('{ supportGrants { id kind scopes caseReference expiresAt inForce } }')).supportGrants;
    expect(grant).toMatchObject({ kind: 'GRANT', scopes: ['JOURNAL', 'PEOPLE'], caseReference: 'CASE-4711', inForce: true });
    expect(Date.parse(grant.expiresAt) - stack.vigil.clock.now().getTime()).toBeGreaterThan(8 * 3600_000 - 60_000);
    grantId = grant.id;
    const row = region.locator(`tr[data-grant="${grantId}"]`);
    expect(await row.getAttribute('data-state')).toBe('in-force');
    await row.getByText('Journal, People (users and sessions, metadata)').waitFor();
    await row.getByText('In force').waitFor();
    await row.getByRole('button', { name: 'Revoke support access for case CASE-4711' }).waitFor();
    expect(await form.getByLabel('Case reference').inputValue()).toBe('');
    await screenshot(owner, 'company-support-granted');
  }, 60_000);

  test('the operator sees it in the console and opens a session after a step-up: the token shows once, with what it is for', async () => {
    await operatorSignInThroughUi(console1, stack.vigil, olga);
    await supportGrantsScreen(console1);
    const row = opsRow(console1, grantId);
    for (const text of ['Acme Corp', 'Grant', 'Journal, People (users and sessions, metadata)', 'CASE-4711', 'Customer reports failing sign-ins']) {
      await row.getByText(text, { exact: true }).waitFor();
    }
    await screenshot(console1, 'ops-support-grants');

    stack.vigil.clock.advance(301);
    await row.getByRole('button', { name: 'Open support session in Acme Corp, case CASE-4711' }).click();
    await proveAsOperator(console1, stack.vigil, olga, 'ops-support-step-up');
    const session = console1.getByRole('region', { name: 'Support session' });
    token = await session.getByTestId('secret').inputValue();
    expect(token).toMatch(/^vsp_/);
    await session.getByText(/Every request made with it is written in Acme Corp's journal/).waitFor();
    await session.getByText(/only as a Bearer token on/).waitFor();
    await session.getByRole('button', { name: 'Copy' }).waitFor();
    await screenshot(console1, 'ops-support-session');
    await noSideways(console1, 'ops-support-session-phone');

    // Opening the session is itself an access of the company: the owner sees it at once.
    await accessRows(owner).filter({ hasText: 'Opened a support session' }).waitFor();
    await session.getByRole('button', { name: 'Done' }).click();
    expect(await session.count()).toBe(0);
  }, 60_000);

  test('each read with the token shows live in the owner\u2019s "Each access", and a refused change too, without a reload', async () => {
    const support = stack.vigil.client();
    support.bearer = token;
    let startedAt = Date.now();
    expect((await support.ok('query Look { auditEvents(first: 5) { edges { node { action } } } }')).auditEvents.edges.length).toBeGreaterThan(0);
    const look = accessRows(owner).filter({ hasText: 'operation Look' });
    await look.waitFor({ timeout: 3_000 });
    console.log(`support read shown after ${Date.now() - startedAt} ms`);
    await look.getByText('Read', { exact: true }).waitFor();
    await look.getByText(/auditEvents/).waitFor();
    await look.getByText('CASE-4711', { exact: true }).waitFor();

    startedAt = Date.now();
    expect(errorCode(await support.request('mutation Sneak { signOut }'))).toBe('FORBIDDEN');
    const refused = accessRows(owner).filter({ hasText: 'operation Sneak' });
    await refused.waitFor({ timeout: 3_000 });
    await refused.getByText('Tried to change something: refused, support is read-only').waitFor();
    await refused.getByText('denied').waitFor();
    expect(await refused.getAttribute('class')).toContain('refused');
    await screenshot(owner, 'company-support-each-access');
    await noSideways(owner, 'company-support-phone');
  }, 60_000);

  test('the administrator revokes it (no grant form for them): the token stops and the console no longer lists it', async () => {
    const { page: adminPage, context } = await stack.open();
    await signInThroughUi(adminPage, { slug: stack.owner.slug, email: admin.email });
    await companyScreen(adminPage);
    const region = supportRegion(adminPage);
    expect(await region.getByRole('form', { name: 'Grant support access' }).count()).toBe(0);
    await accessRows(adminPage).filter({ hasText: 'operation Look' }).waitFor();
    await region.getByRole('button', { name: 'Revoke support access for case CASE-4711' }).click();
    await region.getByRole('status').getByText('Support access revoked: case CASE-4711.').waitFor();
    const row = region.locator(`tr[data-grant="${grantId}"]`);
    expect(await row.getAttribute('data-state')).toBe('revoked');
    expect(await row.getByRole('button').count()).toBe(0);
    await screenshot(adminPage, 'company-support-revoked');
    await context.close();

    // The owner's open screen follows the revocation live.
    await expect.poll(() => supportRegion(owner).locator(`tr[data-grant="${grantId}"]`).getAttribute('data-state')).toBe('revoked');
    const support = stack.vigil.client();
    support.bearer = token;
    expect(errorCode(await support.request('{ auditEvents(first: 1) { edges { cursor } } }'))).toBe('UNAUTHENTICATED');
    await console1.getByRole('button', { name: 'Refresh' }).click();
    await console1.getByText('No company has granted support access, and no break-glass is open.').waitFor();
    expect(await opsRow(console1, grantId).count()).toBe(0);
  }, 60_000);
});

describe('a break-glass of both operators', () => {
  let breakGlassId: string;

  test('one operator asks in the console; they cannot approve it themselves', async () => {
    const form = console1.getByRole('form', { name: 'Break-glass: emergency access without a grant' });
    await form.getByLabel('Company').selectOption({ label: 'Acme Corp' });
    await form.getByLabel('Justification').selectOption({ label: 'An active security incident' });
    await form.getByLabel('Case reference').fill('INC-9');
    await form.getByLabel('Reason').fill('Credential stuffing against this company');
    await form.getByRole('button', { name: 'Request break-glass' }).click();
    await console1.getByRole('status').getByText('Break-glass requested for Acme Corp: the other operator must approve it within the hour.').waitFor();

    const [asked] = (await (await signedInOperator(stack.vigil, olga)).ok('{ supportGrants { id kind justification approvedAt } }')).supportGrants;
    expect(asked).toMatchObject({ kind: 'break_glass', justification: 'active_security_incident', approvedAt: null });
    breakGlassId = asked.id;
    const row = opsRow(console1, breakGlassId);
    await row.getByText('Waiting for the second operator').waitFor();
    await row.getByText('An active security incident').waitFor();
    await row.getByText('The other operator must approve it.').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    await screenshot(console1, 'ops-break-glass-waiting');
    // The owner's journal has it already, live.
    await accessRows(owner).filter({ hasText: 'Break-glass requested' }).waitFor();
  }, 60_000);

  test('the other operator approves it in their console: an hour of read-only access', async () => {
    const { page: console2, context } = await stack.open();
    await operatorSignInThroughUi(console2, stack.vigil, pavel);
    await supportGrantsScreen(console2);
    const row = opsRow(console2, breakGlassId);
    await row.getByText('asked by Olga Operator').waitFor();
    await row.getByRole('button', { name: 'Approve the break-glass of Acme Corp, case INC-9' }).click();
    await console2.getByRole('status').getByText(/^Break-glass approved: Acme Corp is open to support, read-only, until /).waitFor();
    await row.getByText('asked by Olga Operator, approved by Pavel Operator').waitFor();
    await row.getByRole('button', { name: 'Open support session in Acme Corp, case INC-9' }).waitFor();
    expect(await row.getByText('Waiting for the second operator').count()).toBe(0);
    await screenshot(console2, 'ops-break-glass-approved');
    await noSideways(console2, 'ops-support-phone');
    await context.close();

    await accessRows(owner).filter({ hasText: 'Break-glass opened by the second operator' }).waitFor();
    const [opened] = (await stack.owner.api.ok('{ supportGrants { id kind approvedAt expiresAt inForce } }')).supportGrants;
    expect(opened).toMatchObject({ id: breakGlassId, kind: 'BREAK_GLASS', inForce: true });
    expect(Date.parse(opened.expiresAt) - Date.parse(opened.approvedAt)).toBe(3600_000);
  }, 60_000);

  test('the owner is shown it at their next sign-in, on whatever screen, until they say they have seen it', async () => {
    await owner.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await signInThroughUi(owner, stack.owner);
    const notice = owner.getByRole('region', { name: "Vigil's operators opened your company without a grant" });
    await notice.waitFor();
    const item = notice.locator(`li[data-grant="${breakGlassId}"]`);
    await item.getByText('An active security incident').waitFor();
    await item.getByText(/case INC-9/).waitFor();
    await item.getByText(/^Opened .+ for 1 hour, until .+\d/).waitFor();
    await item.getByText('Their reason: Credential stuffing against this company').waitFor();
    await screenshot(owner, 'break-glass-notice');
    await noSideways(owner, 'break-glass-notice-phone');

    // The administrator is not the one it is shown to.
    const { page: adminPage, context } = await stack.open();
    await signInThroughUi(adminPage, { slug: stack.owner.slug, email: admin.email });
    await adminPage.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await adminPage.getByRole('region', { name: "Vigil's operators opened your company without a grant" }).count()).toBe(0);
    await context.close();

    await item.getByRole('button', { name: 'I have seen this' }).click();
    await expect.poll(() => notice.count()).toBe(0);
    expect((await stack.owner.api.ok('{ breakGlassUnseen { id } }')).breakGlassUnseen).toEqual([]);
    await owner.reload();
    await owner.getByRole('navigation', { name: 'Screens' }).waitFor();
    await owner.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await notice.count()).toBe(0);
  }, 60_000);
});

/** The platform operators' console at /ops/ (issue 15), in Chromium against a real Vigil and PostgreSQL. */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { backupEngine } from '../../server/src/backups/mode.ts';
import { recordPlatformEvent } from '../../server/src/backups/take-backup.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import type { GraphQLClient } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, signUpTenant } from '../support/factories.ts';
import { nextOperatorCode } from '../support/operator-console.ts';
import { PHONE, type Stack, fillOperatorSignIn, ownerElsewhere, proveAsOperator, screenshot, signInThroughUi, startStack } from './harness.ts';

let stack: Stack;
let page: Page;
let olga: CreatedOperator;

beforeAll(async () => {
  stack = await startStack();
  olga = await createOperator(stack.vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
  ({ page } = await stack.open());
}, 120_000);
afterAll(async () => stack?.stop());

const nextCode = () => nextOperatorCode(stack.vigil, olga);
const fillSignIn = (code: string, operator: { email: string; password: string } = olga) => fillOperatorSignIn(page, operator, code);
const proveAsOlga = (shot?: string) => proveAsOperator(page, stack.vigil, olga, shot);

/** The owner asks for the company's deletion, with a proof of their own (requesting is sensitive). */
async function requestDeletion(owner: GraphQLClient, reason: string): Promise<{ id: string; intentHash: string }> {
  await owner.ok('mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }', { i: { password: STRONG_PASSWORD } });
  return (await owner.ok('mutation($r: String!) { requestCompanyDeletion(reason: $r) { id intentHash } }', { r: reason })).requestCompanyDeletion;
}

const card = (title: string) => page.getByRole('article', { name: title });
const section = (label: RegExp) => page.getByRole('region', { name: label });
const banner = (text: string) => page.getByRole('status').filter({ hasText: text });
const goTo = async (link: string) => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: link, level: 1 }).waitFor();
};

describe('signing in', () => {
  test('password and TOTP code: a wrong code is refused with a visible message, the right one opens the console', async () => {
    await page.goto('/ops/');
    await page.getByRole('heading', { name: 'Operator sign-in', level: 1 }).waitFor();
    const right = await nextCode();
    await fillSignIn(right === '000000' ? '111111' : '000000');
    await page.getByRole('alert').getByText('The email, password or code is wrong.').waitFor();
    await screenshot(page, 'ops-sign-in-refused');

    await fillSignIn(await nextCode());
    const header = page.getByRole('banner');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    await header.getByText('Olga Operator').waitFor();
    expect(await header.getByText(/Session ends/).textContent()).toMatch(/Session ends .+\d/);
    await page.getByRole('heading', { name: 'Critical operations', level: 1 }).waitFor();
  });
});

describe('the queue', () => {
  let acme: { id: string; intentHash: string };

  test("the owner's deletion request waits for verification, with its intent hash in full", async () => {
    const owner = (await ownerElsewhere(stack)).api;
    acme = await requestDeletion(owner, 'We are closing the business down.');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const deletion = section(/^Waiting for verification/).getByRole('article', { name: 'Deletion of Acme Corp' });
    await deletion.waitFor();
    await deletion.getByText(acme.intentHash, { exact: true }).waitFor();
    await deletion.getByText('We are closing the business down.').waitFor();
    expect(await deletion.getAttribute('data-state')).toBe('requested');
    await deletion.getByText('Requested', { exact: true }).and(deletion.locator('.badge')).waitFor();
    await screenshot(page, 'ops-queue-requested');
  });

  test('the operator records the verification, then approves after a step-up (the proof is older than 5 minutes): it cools off', async () => {
    const verification = card('Deletion of Acme Corp').getByRole('form', { name: 'Verification' });
    await verification.getByRole('radio', { name: 'Call-back' }).check();
    await verification.getByLabel('Reference').fill('Called the owner back on +49 30 1234 at 10:02');
    await verification.getByRole('button', { name: 'Record verification' }).click();
    await banner('Verification recorded: Deletion of Acme Corp.').waitFor();
    const waiting = section(/^Waiting for approval/).getByRole('article', { name: 'Deletion of Acme Corp' });
    await waiting.getByText(/Call-back: Called the owner back/).waitFor();
    const approval = waiting.getByRole('group', { name: 'Approval' });
    await approval.getByText(acme.intentHash, { exact: true }).waitFor();
    await screenshot(page, 'ops-queue-verified');

    stack.vigil.clock.advance(6 * 60);
    await approval.getByRole('button', { name: 'Approve' }).click();
    await proveAsOlga('ops-step-up');
    // The same request went again once proved: nothing to click twice.
    await banner('Approved: Deletion of Acme Corp.').waitFor();
    const cooling = section(/^Cooling off or approved/).getByRole('article', { name: 'Deletion of Acme Corp' });
    await cooling.getByText('Cooling off', { exact: true }).waitFor();
    await cooling.getByText(/unless cancelled or denied/).waitFor();
    const owner = (await ownerElsewhere(stack)).api;
    const [op] = (await owner.ok('{ criticalOperations { id state } }')).criticalOperations;
    expect(op).toEqual({ id: acme.id, state: 'COOLING_OFF' });
    await screenshot(page, 'ops-queue-cooling-off');
  });

  test('a legal hold is placed on the deletion and lifted again', async () => {
    const deletion = card('Deletion of Acme Corp');
    const hold = deletion.getByRole('switch', { name: /Legal hold/ });
    expect(await hold.isChecked()).toBe(false);
    await hold.check();
    await banner('Legal hold placed: Deletion of Acme Corp.').waitFor();
    await deletion.getByText('legal hold', { exact: true }).waitFor();
    expect(await deletion.getByRole('switch', { name: /Legal hold/ }).isChecked()).toBe(true);
    await screenshot(page, 'ops-legal-hold');
    await deletion.getByRole('switch', { name: /Legal hold/ }).uncheck();
    await banner('Legal hold lifted: Deletion of Acme Corp.').waitFor();
    await expect.poll(() => deletion.getByText('legal hold', { exact: true }).count()).toBe(0);
  });

  test("another company's request is denied with a reason and closes; the filter shows one section", async () => {
    const globex = await signUpTenant(stack.vigil.client(), { tenantName: 'Globex Industries' });
    await requestDeletion(bearerClient(stack.vigil, globex.token), 'Please remove everything of ours.');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const deletion = card('Deletion of Globex Industries');
    await deletion.getByText('Deny…').click();
    await deletion.getByLabel('Reason for denying').fill('The owner did not answer the call-back.');
    await deletion.getByRole('button', { name: 'Deny the deletion' }).click();
    await banner('Denied: Deletion of Globex Industries.').waitFor();
    const closed = section(/^Closed/).getByRole('article', { name: 'Deletion of Globex Industries' });
    await closed.getByText(/Denied · .+: The owner did not answer the call-back\./).waitFor();
    expect(await closed.getByRole('switch').count()).toBe(0);

    await page.getByRole('radio', { name: /^Closed/ }).check();
    await expect.poll(() => page.getByRole('region', { name: /^Waiting for verification/ }).count()).toBe(0);
    expect(await page.getByRole('article').count()).toBe(1);
    await screenshot(page, 'ops-queue-closed');
    await page.getByRole('radio', { name: /^All/ }).check();
    await page.setViewportSize(PHONE);
    await screenshot(page, 'ops-queue-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('operators', () => {
  test('two seats at most: the first approves the pending second after a step-up', async () => {
    const piotr = await createOperator(stack.vigil.services, { email: 'piotr@vendor.test', displayName: 'Piotr Operator' });
    expect(piotr.pending).toBe(true);
    await goTo('Operators');
    const row = page.getByRole('row').filter({ hasText: 'Piotr Operator' });
    await row.getByText('Waiting for approval').waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'Olga Operator (you)' }).getByRole('button').count()).toBe(0);
    await screenshot(page, 'ops-operators');
    stack.vigil.clock.advance(301);
    await row.getByRole('button', { name: 'Approve Piotr Operator' }).click();
    await proveAsOlga();
    await banner('Piotr Operator is approved and can sign in.').waitFor();
    await row.getByText('Active').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
  });
});

describe('the platform journal', () => {
  test("lists the operator's actions newest first, with actor, target and details, and pages with beforeSeq", async () => {
    await goTo('Platform journal');
    const rows = page.locator('table tbody tr');
    await rows.first().waitFor();
    const seqs = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq'))));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const actions = new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action'))));
    for (const action of [
      'operator.sign_in_failed', 'operator.signed_in', 'operator.stepped_up', 'operator.approved', 'critical_operation.verified',
      'critical_operation.approved', 'critical_operation.legal_hold_changed', 'critical_operation.denied',
    ]) expect(actions).toContain(action);
    const approved = page.locator('tr[data-action="critical_operation.approved"]');
    expect(await approved.locator('td[data-label="Actor"]').textContent()).toBe('Olga Operator');
    expect(await approved.locator('td[data-label="Target"]').textContent()).toBe('critical operation of Acme Corp');
    await approved.locator('td[data-label="Details"]').getByText('tenant.delete').waitFor();
    const verified = page.locator('tr[data-action="critical_operation.verified"] td[data-label="Details"]');
    await verified.getByText('call_back').waitFor();
    expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await screenshot(page, 'ops-journal');

    // A client-side route with its query, loaded from the server: the console's own page answers it.
    await page.goto(`/ops/journal?before=${seqs[0]}`);
    await page.getByRole('heading', { name: 'Platform journal', level: 1 }).waitFor();
    await expect.poll(() => rows.first().getAttribute('data-seq')).toBe(String(seqs[1]));
    expect(await page.locator(`tr[data-seq="${seqs[0]}"]`).count()).toBe(0);
    await page.getByRole('button', { name: 'Newest' }).click();
    await expect.poll(() => rows.first().getAttribute('data-seq')).toBe(String(seqs[0]));
  });
});

describe('backups', () => {
  test('the Backups screen: no copy yet and late; then the last copy, its drill and a failure, without the company id a problem named', async () => {
    await goTo('Backups');
    const lastBackup = page.getByRole('article', { name: 'Last good backup' });
    await lastBackup.getByText('No good backup yet.').waitFor();
    await lastBackup.getByText('Stale', { exact: true }).waitFor();
    await page.getByTestId('stale').getByText(/no good copy yet/).waitFor();
    const how = page.getByRole('region', { name: 'How backups run' });
    await how.getByText('Unknown', { exact: true }).waitFor();
    const { engine, reason } = await backupEngine(stack.vigil.services);
    await how.getByText(reason, { exact: false }).waitFor();
    await how.locator('[data-field="schedule"]').getByText(/a copy every 24 h, a restore drill every 24 h; copies kept 14 days/).waitFor();
    await screenshot(page, 'ops-backups-none');

    // The entries a copy, its drill and a later failed copy write (take-backup.ts, drill.ts), as the schedule would;
    // the drill names a company, as restored-checks.ts does.
    const record = (entry: Parameters<typeof recordPlatformEvent>[1]) => recordPlatformEvent(stack.vigil.services, entry);
    const backupId = '20261204T020000Z-1a2b';
    await record({ action: 'backup.started', outcome: 'success', details: { backupId, mode: engine, manifest: { backupId, tenants: [] }, keyId: 'k', signature: 's' } });
    await record({ action: 'backup.completed', outcome: 'success', details: { backupId, mode: engine, bytes: 4_404_019, pruned: [] } });
    const companyId = stack.owner.tenantId;
    await record({
      action: 'backup.drill_failed',
      outcome: 'failure',
      details: { backupId, mode: engine, problems: [`company ${companyId}: the journal does not verify, first bad seq 3: event 3 was altered`], durationMs: 8_412 },
    });
    await record({ action: 'backup.failed', outcome: 'failure', details: { backupId: '20261204T030000Z-3c4d', mode: engine, problem: 'ENOSPC: no space left on device, write' } });
    const [drillEntry] = await stack.vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'backup.drill_failed' }, { orderBy: { seq: 'desc' }, limit: 1 });

    await page.getByRole('button', { name: 'Refresh' }).click();
    await lastBackup.getByText(backupId).waitFor();
    await lastBackup.getByText('Up to date', { exact: true }).waitFor();
    expect(await lastBackup.locator('[data-field="size"]').textContent()).toBe('4.2 MiB');
    expect(await page.getByTestId('stale').count()).toBe(0);
    expect(await how.locator('[data-field="rpo"] strong').textContent()).toMatch(/^at most \d+ s$/);
    const drill = page.getByRole('article', { name: 'Last restore drill' });
    await drill.getByText('Failed', { exact: true }).waitFor();
    expect(await drill.locator('[data-field="duration"]').textContent()).toMatch(/^8\.4 s/);
    await drill.getByRole('list', { name: 'What the drill found' }).getByText(`company [id withheld: platform journal seq ${drillEntry.seq}]: the journal does not verify, first bad seq 3`, { exact: false }).waitFor();
    const failure = page.getByRole('article', { name: 'Last failed backup' });
    await failure.getByText('ENOSPC: no space left on device, write').waitFor();
    await failure.getByText('Not made good yet', { exact: true }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain(companyId);
    await screenshot(page, 'ops-backups');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'ops-backups-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });

    await drill.getByText(`Platform journal seq ${drillEntry.seq}`, { exact: true }).waitFor();
  });
});

describe('its own door', () => {
  test("a company's session cookie gives no access: the console shows its sign-in", async () => {
    const { page: tenantPage, context } = await stack.open();
    await signInThroughUi(tenantPage, stack.owner);
    expect((await context.cookies()).map((c) => c.name)).toContain('vigil_session');
    await tenantPage.goto('/ops/');
    await tenantPage.getByRole('heading', { name: 'Operator sign-in', level: 1 }).waitFor();
    expect(await tenantPage.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
    const me = await tenantPage.evaluate(async () => {
      const response = await fetch('/ops/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
      return (await response.json()).data.me;
    });
    expect(me).toBeNull();
    await context.close();
  });

  test("served at /ops/ with the dashboard's policy; its routes fall back to its own page; /ops/graphql still answers", async () => {
    const dashboard = await fetch(`${stack.vigil.url}/people`);
    const csp = dashboard.headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
    expect(await dashboard.text()).toContain('<title>Vigil</title>');
    for (const path of ['/ops', '/ops/', '/ops/operators', '/ops/journal?before=3']) {
      const response = await fetch(`${stack.vigil.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy'), path).toBe(csp);
      expect(await response.text(), path).toContain("<title>Vigil operators' console</title>");
    }
    expect((await fetch(`${stack.vigil.url}/ops/missing.js`)).status).toBe(404);
    const graphql = await fetch(`${stack.vigil.url}/ops/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(await graphql.json()).toEqual({ data: { me: null } });
  });

  test('signing out ends the session: the sign-in says so, and a reload stays out', async () => {
    await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').getByText('You have signed out.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Operator sign-in', level: 1 }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
  });

  test('repeated wrong attempts on an account are slowed down, and the sign-in says so', async () => {
    const alert = page.getByRole('alert');
    const guess = { ...olga, email: 'mallory@vendor.test', password: 'not the password at all' };
    let said = '';
    for (let attempt = 1; attempt <= 6 && !said.startsWith('Too many attempts'); attempt++) {
      const answered = page.waitForResponse((response) => response.url().endsWith('/ops/graphql'));
      await fillSignIn('123456', guess);
      await answered;
      await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
      said = (await alert.textContent()) ?? '';
    }
    expect(await alert.textContent()).toMatch(/^Too many attempts\. Try again in \d+ s\.$/);
    await screenshot(page, 'ops-sign-in-too-many');
  });
});

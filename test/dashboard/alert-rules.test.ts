import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { readCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { applyJournalRetention } from '../../server/src/audit/retention.ts';
import { writeEvents } from '../support/journal.ts';
import { auditRows } from '../support/owner-sql.ts';
import { DESKTOP, PHONE, type Stack, addEmployee, ownerElsewhere, screenshot, signInThroughUi, startStack } from './harness.ts';

/**
 * The Company screen's security alerts and journal retention (issue 17): the owner tunes each detector's
 * threshold and window or turns it off, and sets how long the journal is kept; an administrator (audit.read,
 * no tenant.settings) sees both read-only.
 */
let stack: Stack;
let page: Page;

const RULES = [
  'CREDENTIAL_STUFFING',
  'PASSWORD_SPRAYING',
  'TOKEN_REUSE',
  'API_KEY_NEW_NETWORK',
  'MASS_EXPORT',
  'PRIVILEGED_ROLE_GRANTED',
  'SUPPORT_ACCESS_USED',
  'CHAIN_VERIFICATION_FAILED',
];
const DAY = 86_400;

beforeAll(async () => {
  stack = await startStack();
  ({ page } = await stack.open());
  await signInThroughUi(page, stack.owner);
}, 120_000);
afterAll(async () => stack?.stop());

async function openCompany(on: Page = page): Promise<void> {
  await on.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Company' }).click();
  await on.getByRole('heading', { name: 'Company', level: 1 }).waitFor();
}

const alerts = (on: Page = page) => on.getByRole('region', { name: 'Security alerts' });
const retention = (on: Page = page) => on.getByRole('region', { name: 'Journal retention' });
const row = (rule: string, on: Page = page): Locator => alerts(on).locator(`tbody tr[data-rule="${rule}"]`);

async function serverRules(): Promise<Record<string, { enabled: boolean; threshold: number; windowSeconds: number }>> {
  const { alertRules } = await stack.owner.api.ok<{ alertRules: Array<{ rule: string; enabled: boolean; threshold: number; windowSeconds: number }> }>(
    '{ alertRules { rule enabled threshold windowSeconds } }',
  );
  return Object.fromEntries(alertRules.map(({ rule, ...rest }) => [rule, rest]));
}

const journalled = async (action: string) => (await auditRows(stack.vigil, stack.owner.tenantId)).filter((r) => r.action === action);

describe('security alerts', () => {
  test('the owner sees every rule with its defaults; fixed thresholds are not editable', async () => {
    await openCompany();
    await alerts().getByRole('heading', { name: 'Security alerts', level: 2 }).waitFor();
    await alerts().getByText(/raises a security alert in the journal, and mails the owner and administrators, when a rule's threshold is crossed within its window/).waitFor();
    await expect.poll(() => alerts().locator('tbody tr').count()).toBe(8);
    expect(await alerts().locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule')))).toEqual(RULES);

    const stuffing = row('CREDENTIAL_STUFFING');
    expect(await stuffing.locator('strong').textContent()).toBe('Credential stuffing');
    await stuffing.getByText('Failed sign-ins over 20 different accounts from one address within the window.').waitFor();
    expect(await stuffing.getByText('high', { exact: true }).count()).toBe(1);
    expect(await stuffing.getByRole('checkbox', { name: 'Credential stuffing enabled' }).isChecked()).toBe(true);
    expect(await stuffing.getByRole('spinbutton', { name: 'Credential stuffing threshold' }).inputValue()).toBe('20');
    expect(await stuffing.getByRole('spinbutton', { name: 'Credential stuffing window in minutes' }).inputValue()).toBe('10');
    await stuffing.getByText('3 to 1000').waitFor();
    expect(await stuffing.getByRole('button', { name: 'Save Credential stuffing' }).isDisabled()).toBe(true);

    // Rules that raise on their first event: the threshold is shown, not editable; the window and the switch are.
    for (const rule of ['TOKEN_REUSE', 'API_KEY_NEW_NETWORK', 'PRIVILEGED_ROLE_GRANTED', 'SUPPORT_ACCESS_USED', 'CHAIN_VERIFICATION_FAILED']) {
      expect(await row(rule).getByRole('spinbutton').count()).toBe(1);
      expect(await row(rule).locator('[data-fixed]').textContent()).toBe('1');
      expect(await row(rule).getByRole('checkbox').count()).toBe(1);
    }
    expect(await row('CHAIN_VERIFICATION_FAILED').getByText('critical', { exact: true }).count()).toBe(1);
    expect(await row('SUPPORT_ACCESS_USED').getByText('30 days').count()).toBe(1);
  });

  test('changes password spraying to 3 addresses in 30 minutes: saved, kept after a reload, journalled', async () => {
    const spraying = row('PASSWORD_SPRAYING');
    await spraying.getByRole('spinbutton', { name: 'Password spraying threshold' }).fill('3');
    await spraying.getByRole('spinbutton', { name: 'Password spraying window in minutes' }).fill('30');
    await spraying.getByRole('button', { name: 'Save Password spraying' }).click();
    await spraying.getByRole('status').getByText('Saved.').waitFor();

    await page.reload();
    await alerts().waitFor();
    await expect.poll(() => row('PASSWORD_SPRAYING').getByRole('spinbutton', { name: 'Password spraying threshold' }).inputValue()).toBe('3');
    expect(await row('PASSWORD_SPRAYING').getByRole('spinbutton', { name: 'Password spraying window in minutes' }).inputValue()).toBe('30');
    await row('PASSWORD_SPRAYING').getByText(/^Failed sign-ins to one account from 3 different addresses/).waitFor();

    const rules = await serverRules();
    expect(rules.PASSWORD_SPRAYING).toEqual({ enabled: true, threshold: 3, windowSeconds: 1800 });
    expect(rules.CREDENTIAL_STUFFING).toEqual({ enabled: true, threshold: 20, windowSeconds: 600 });
    const [updated, ...more] = await journalled('tenant.alert_rule_updated');
    expect(more).toEqual([]);
    expect(updated).toMatchObject({
      outcome: 'success',
      actor_id: stack.owner.userId,
      details: { rule: 'password_spraying', before: { enabled: true, threshold: 10, windowSeconds: 600 }, after: { enabled: true, threshold: 3, windowSeconds: 1800 } },
    });
  });

  test("a threshold out of bounds shows the server's message next to the field, and nothing changes", async () => {
    const stuffing = row('CREDENTIAL_STUFFING');
    const threshold = stuffing.getByRole('spinbutton', { name: 'Credential stuffing threshold' });
    await threshold.fill('1');
    await stuffing.getByRole('button', { name: 'Save Credential stuffing' }).click();
    const problem = stuffing.locator('#alert-rule-credential_stuffing-threshold-problem');
    await problem.waitFor();
    expect(await problem.textContent()).toBe('Between 3 and 1000.');
    expect(await threshold.getAttribute('aria-invalid')).toBe('true');
    expect(await threshold.getAttribute('aria-describedby')).toContain('alert-rule-credential_stuffing-threshold-problem');
    expect(await stuffing.getByRole('alert').textContent()).toBe('Not saved.');
    await screenshot(page, 'company-alert-rules-refused');
    expect((await serverRules()).CREDENTIAL_STUFFING.threshold).toBe(20);
    // Editing the field again: the refusal no longer holds.
    await threshold.fill('25');
    expect(await problem.count()).toBe(0);
    await threshold.fill('20');
  });

  test('turns session token reuse off: saved, shown off after a reload, and the server agrees', async () => {
    const reuse = row('TOKEN_REUSE');
    await reuse.getByRole('checkbox', { name: 'Session token reuse enabled' }).uncheck();
    await reuse.getByRole('button', { name: 'Save Session token reuse' }).click();
    await reuse.getByRole('status').getByText('Saved.').waitFor();
    expect((await serverRules()).TOKEN_REUSE).toEqual({ enabled: false, threshold: 1, windowSeconds: 600 });
    await page.reload();
    await alerts().waitFor();
    await expect.poll(() => row('TOKEN_REUSE').getByRole('checkbox', { name: 'Session token reuse enabled' }).isChecked()).toBe(false);
    expect(await row('TOKEN_REUSE').getAttribute('class')).toContain('off');
    const changes = await journalled('tenant.alert_rule_updated');
    expect(changes.at(-1)?.details).toMatchObject({ rule: 'token_reuse', before: { enabled: true }, after: { enabled: false } });
  });

  test('is tidy at 1280 px and usable on a phone without sideways scroll', async () => {
    await alerts().scrollIntoViewIfNeeded();
    await screenshot(page, 'company-alert-rules');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'company-alert-rules-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    // Still usable: each field is on screen and can be reached.
    const spraying = row('PASSWORD_SPRAYING');
    const box = await spraying.getByRole('button', { name: 'Save Password spraying' }).boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(DESKTOP);
  });
});

describe('journal retention', () => {
  test('is kept forever until the owner sets 3 years: shown, kept after a reload, journalled', async () => {
    const region = retention();
    await region.getByRole('heading', { name: 'Journal retention', level: 2 }).waitFor();
    await region.getByText('Kept forever').waitFor();
    expect(await region.getByText(/The journal starts after event/).count()).toBe(0);
    await region.getByText(/Older events are removed only up to a signed checkpoint.*each removal is written in the journal/).waitFor();
    const select = region.getByLabel('Keep the journal');
    expect(await select.inputValue()).toBe('');
    expect(await select.locator('option').allTextContents()).toEqual(['Forever', '1 year', ...Array.from({ length: 9 }, (_, i) => `${i + 2} years`)]);
    await select.selectOption({ label: '3 years' });
    await region.getByRole('button', { name: 'Save' }).click();
    await region.getByText('Kept 3 years').waitFor();
    await region.getByRole('status').getByText('Saved.').waitFor();

    await page.reload();
    await retention().getByText('Kept 3 years').waitFor();
    expect(await retention().getByLabel('Keep the journal').inputValue()).toBe('3');
    expect((await stack.owner.api.ok('{ viewer { tenant { journalRetentionYears journalStartsAfterSeq } } }')).viewer.tenant).toEqual({ journalRetentionYears: 3, journalStartsAfterSeq: 0 });
    expect((await journalled('tenant.journal_retention_updated')).map((r) => r.details)).toEqual([{ before: { years: null }, after: { years: 3 } }]);
    await screenshot(page, 'company-journal-retention');
  });
});

describe('an administrator (audit.read, no tenant.settings)', () => {
  test('sees the rules and the retention read-only', async () => {
    const admin = await addEmployee(stack, 'Administrator', 'ada@acme.test', 'Ada Admin');
    const { context, page: other } = await stack.open();
    await signInThroughUi(other, { slug: stack.owner.slug, email: admin.email });
    await openCompany(other);
    await expect.poll(() => alerts(other).locator('tbody tr').count()).toBe(8);
    await alerts(other).getByText(/Only holders of the permission to change the company settings can tune them/).waitFor();
    expect(await alerts(other).getByRole('spinbutton').count()).toBe(0);
    expect(await alerts(other).getByRole('checkbox').count()).toBe(0);
    expect(await alerts(other).getByRole('button').count()).toBe(0);
    // What the owner saved, as text.
    const spraying = alerts(other).locator('tbody tr[data-rule="PASSWORD_SPRAYING"]');
    expect(await spraying.locator('td[data-label="Threshold"]').textContent()).toContain('3');
    expect(await spraying.locator('td[data-label="Window"]').textContent()).toBe('30 minutes');
    expect(await alerts(other).locator('tbody tr[data-rule="TOKEN_REUSE"] td[data-label="Enabled"]').textContent()).toBe('Off');
    await retention(other).getByText('Kept 3 years').waitFor();
    expect(await retention(other).getByRole('combobox').count()).toBe(0);
    await screenshot(other, 'company-alert-rules-read-only');
    await context.close();
  });
});

describe('once the retention removed older events', () => {
  test('the section says where the journal now starts', async () => {
    const checkpointNow = async () => {
      stack.vigil.clock.advance(2);
      await writeCheckpoints(stack.vigil.services, 1);
    };
    await checkpointNow();
    const anchor = readCheckpoints(stack.vigil.config.checkpointsDir, stack.owner.tenantId).at(-1)!;
    stack.vigil.clock.advance(3 * 366 * DAY);
    await writeEvents(stack.vigil, stack.owner.tenantId, 2, 'test.new');
    await checkpointNow();
    stack.vigil.clock.advance(2);
    expect(await applyJournalRetention(stack.vigil.services, 1)).toBe(1);
    const owner = (await ownerElsewhere(stack)).api;
    expect((await owner.ok('{ viewer { tenant { journalStartsAfterSeq } } }')).viewer.tenant.journalStartsAfterSeq).toBe(anchor.seq);

    await signInThroughUi(page, stack.owner); // years later: a fresh sign-in
    await openCompany();
    await retention().getByText('Kept 3 years').waitFor();
    await retention()
      .getByText(`The journal starts after event #${anchor.seq} (older events were removed up to a signed checkpoint, which still verifies them).`)
      .waitFor();
  }, 60_000);
});

import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runDueCriticalOperations } from '../../server/src/critical-ops/critical-ops.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { GraphQLClient } from '../support/client.ts';
import { inviteEmployee } from '../support/factories.ts';
import { type Stack, ownerElsewhere, screenshot, signInThroughUi, startStack } from './harness.ts';

let stack: Stack;
let page: Page;
let operator: CreatedOperator;

beforeAll(async () => {
  stack = await startStack();
  operator = await createOperator(stack.vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
  ({ page } = await stack.open());
  await signInThroughUi(page, stack.owner);
}, 120_000);
afterAll(async () => stack?.stop());

async function operatorConsole(): Promise<GraphQLClient> {
  stack.vigil.clock.advance(30);
  const ops = new GraphQLClient(stack.vigil.url, '/ops/graphql');
  const totpCode = await generate({ secret: operator.totp.secret, epoch: Math.floor(stack.vigil.clock.now().getTime() / 1000) });
  await ops.ok('mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { token } }', { i: { email: operator.email, password: operator.password, totpCode } });
  return ops;
}

test('the owner requests the deletion on the Company screen, sees support verify and approve it, and cancels it in the cooling-off', async () => {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Company' }).click();
  await page.getByRole('heading', { name: 'Company', level: 1 }).waitFor();
  const danger = page.getByRole('region', { name: 'Danger zone' });
  await danger.getByLabel('Why delete the company?').fill('We are closing the business down.');
  await danger.getByRole('button', { name: 'Request deletion' }).click();
  await page.getByText('Deletion requested: support will call you back to verify it.').waitFor();
  const pending = page.getByRole('region', { name: 'Operation in progress' });
  await pending.getByText('requested').waitFor();

  const ops = await operatorConsole();
  const [queued] = (await ops.ok('{ criticalOperations { id intentHash state } }')).criticalOperations;
  await ops.ok(`mutation($id: ID!, $h: String!) { verifyCriticalOperation(id: $id, intentHash: $h, method: CALL_BACK, reference: "called the owner back") { id } }`, { id: queued.id, h: queued.intentHash });
  await ops.ok(`mutation($id: ID!, $h: String!) { approveCriticalOperation(id: $id, intentHash: $h) { id } }`, { id: queued.id, h: queued.intentHash });

  await page.reload();
  await pending.getByText('cooling off').waitFor();
  await pending.getByText(/It happens/).waitFor();
  await page.getByText(/Verified by support \(call-back\)/).waitFor();
  await screenshot(page, 'company-cooling-off');
  await pending.getByRole('button', { name: 'Cancel deletion of the company' }).click();
  await page.getByText('Deletion of the company cancelled.').waitFor();
  await expect.poll(() => pending.count()).toBe(0);
  stack.vigil.clock.advance(73 * 3600);
  expect(await runDueCriticalOperations(stack.vigil.services)).toBe(0);
}, 60_000);

test('the owner locks the company down and reads the report; an employee then sets a new password at sign-in', async () => {
  const employee = await inviteEmployee((await ownerElsewhere(stack)).api, 'Employee');
  await signInThroughUi(page, stack.owner); // the clock moved: a fresh sign-in, a fresh proof
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Company' }).click();
  const lockdown = page.getByRole('region', { name: 'Lockdown' });
  await lockdown.getByLabel('What happened?').fill('A laptop was stolen.');
  page.once('dialog', (dialog) => void dialog.accept());
  await lockdown.getByRole('button', { name: 'Lock the company down' }).click();
  const report = page.getByRole('region', { name: 'Incident report' });
  await report.getByText(/sessions ended, \d+ API keys revoked/).waitFor();
  await screenshot(page, 'lockdown-report');
  expect((await employee.client.ok('{ viewer { user { id } } }')).viewer).toBeNull();

  const { page: other } = await stack.open();
  await other.goto('/');
  await other.getByLabel('Company').fill(stack.owner.slug);
  await other.getByLabel('Email').fill(employee.email);
  await other.getByLabel('Password').fill('correct horse battery staple');
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.getByRole('heading', { name: 'Set a new password' }).waitFor();
  await other.getByLabel('New password').fill('a brand new horse battery staple');
  await other.getByRole('button', { name: 'Set password and sign in' }).click();
  await other.getByRole('navigation', { name: 'Screens' }).waitFor();
}, 60_000);

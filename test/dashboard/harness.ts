/** Browser tests of the dashboard: a fresh build, a real Vigil serving it, Debian's Chromium driven by playwright-core. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import type { CreatedOperator } from '../../server/src/platform/operators.ts';
import { GraphQLClient } from '../support/client.ts';
import { STRONG_PASSWORD, type SignedUp, signIn, signUpTenant } from '../support/factories.ts';
import { nextOperatorCode } from '../support/operator-console.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Builds the dashboard from source into a fresh directory, so a test never serves a stale dist/. */
export async function buildDashboard(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', join(ROOT, 'dashboard/vite.config.ts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT });
  return outDir;
}

export interface Stack {
  vigil: TestVigil;
  browser: Browser;
  /** The tenant owner, signed up through the API; `api` holds a session of its own. */
  owner: SignedUp & { api: GraphQLClient };
  /** A browser profile of its own (cookies included) with one page. */
  open(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>;
  stop(): Promise<void>;
}

/**
 * `env`: settings of the stack's Vigil (e.g. WEBHOOKS_ALLOW_PRIVATE_NETWORKS), over the tests' defaults.
 * `withOwner: false`: no company is signed up, so the stack is on its first run (and has no `owner`).
 */
export async function startStack(options?: { env?: Record<string, string>; withOwner?: true }): Promise<Stack>;
export async function startStack(options: { env?: Record<string, string>; withOwner: false }): Promise<Omit<Stack, 'owner'>>;
export async function startStack(options: { env?: Record<string, string>; withOwner?: boolean } = {}): Promise<Stack | Omit<Stack, 'owner'>> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  const dist = await buildDashboard();
  const vigil = await startVigil({ env: { ...options.env, DASHBOARD_DIR: dist } });
  const api = vigil.client();
  const owner = options.withOwner === false ? undefined : { ...(await signUpTenant(api)), api };
  // launch() starts Chromium on a fresh temporary --user-data-dir of its own and removes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    vigil,
    browser,
    ...(owner && { owner }),
    async open(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, baseURL: vigil.url, acceptDownloads: true });
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error('[browser]', error));
      return { context, page };
    },
    async stop() {
      await browser.close();
      await vigil.stop();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}

/** Signs in through the sign-in screen and waits for the dashboard. */
export async function signInThroughUi(page: Page, account: { slug: string; email: string; password?: string }): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Company').fill(account.slug);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password ?? STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signedIn = page.getByRole('navigation', { name: 'Screens' });
  const refused = page.getByRole('alert');
  await signedIn.or(refused).first().waitFor();
  if (await refused.isVisible()) throw new Error(`sign-in refused: ${await refused.textContent()}`);
}

/** Answers the step-up dialog that a sensitive action opened, with the account's password (and code). */
export async function proveItIsMe(page: Page, proof: { password?: string; code?: string } = {}): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.waitFor();
  await dialog.getByLabel('Password').fill(proof.password ?? STRONG_PASSWORD);
  if (proof.code) await dialog.getByLabel(/Code from the app/).fill(proof.code);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Fills the operators' console's sign-in form (at /ops/) and submits it. */
export async function fillOperatorSignIn(page: Page, operator: { email: string; password: string }, code: string): Promise<void> {
  await page.getByLabel('Email').fill(operator.email);
  await page.getByLabel('Password').fill(operator.password);
  await page.getByLabel('Code from the authenticator app').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs the operator in to the console with the next code of their app, and waits for the console. */
export async function operatorSignInThroughUi(page: Page, vigil: TestVigil, operator: CreatedOperator): Promise<void> {
  await page.goto('/ops/');
  await fillOperatorSignIn(page, operator, await nextOperatorCode(vigil, operator));
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

/** Answers the console's step-up dialog with the operator's password and a fresh code; `shot` names a screenshot of it. */
export async function proveAsOperator(page: Page, vigil: TestVigil, operator: CreatedOperator, shot?: string): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.waitFor();
  if (shot) await screenshot(page, shot);
  await dialog.getByLabel('Password').fill(operator.password);
  await dialog.getByLabel('Code from the app').fill(await nextOperatorCode(vigil, operator));
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The id of the session the page's cookie holds, asked from the page itself. */
export async function pageSessionId(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { session { id } } }' }),
    });
    const body = await response.json();
    return body.data.viewer.session.id as string;
  });
}

/** A new API session of the owner, as another device would have; tests may end it. */
export async function ownerElsewhere(stack: Stack): Promise<{ api: GraphQLClient; sessionId: string }> {
  const api = stack.vigil.client();
  const result = await signIn(api, { tenantSlug: stack.owner.slug, email: stack.owner.email });
  if (!result.data) throw new Error(`sign-in failed: ${JSON.stringify(result.errors)}`);
  return { api, sessionId: result.data.signIn.session.id };
}

/** Invites an employee with a role (by name) and accepts the invitation through the API. */
export async function addEmployee(stack: Stack, roleName: string, email: string, displayName: string) {
  const owner = (await ownerElsewhere(stack)).api;
  const { roles } = await owner.ok<{ roles: Array<{ id: string; name: string }> }>('{ roles { id name } }');
  const roleId = roles.find((role) => role.name === roleName)!.id;
  const invited = await owner.ok<{ inviteUser: { token: string } }>(
    'mutation($e: String!, $r: ID!) { inviteUser(email: $e, roleId: $r) { token } }',
    { e: email, r: roleId },
  );
  const api = stack.vigil.client();
  const accepted = await api.ok<{ acceptInvitation: { user: { id: string }; session: { id: string } } }>(
    'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } session { id } } }',
    { i: { token: invited.inviteUser.token, password: STRONG_PASSWORD, displayName } },
  );
  return { api, email, displayName, userId: accepted.acceptInvitation.user.id, sessionId: accepted.acceptInvitation.session.id };
}

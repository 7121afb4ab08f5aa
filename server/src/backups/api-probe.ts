import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';

const START_SCRIPT = fileURLToPath(new URL('../../start.mjs', import.meta.url));
const START_TIMEOUT_MS = 60_000;

/**
 * A Vigil started as its own process on the restored copy, with no background jobs (it must not back up,
 * mail or sign anything from the copy): a drill company signs up, signs in again with its password, and
 * reads its journal through the GraphQL API. Returns a problem, or null.
 */
export async function probeRestoredApi(config: Pick<Config, 'secretsDir' | 'keySettings'>, scratch: string, env: Record<string, string | undefined>): Promise<string | null> {
  const port = await freePort();
  // A home of its own (its checkpoints and logs stay in the scratch copy), with this instance's keys.
  const home = join(scratch, 'home');
  await mkdir(home, { recursive: true, mode: 0o700 });
  if (existsSync(config.secretsDir)) await symlink(config.secretsDir, join(home, 'secrets'));
  const keys = config.keySettings;
  env = {
    VIGIL_HOME: home,
    ENCRYPTION_KEYS: keys.encryptionKeys,
    ENCRYPTION_KEYS_FILE: keys.encryptionKeysFile,
    AUDIT_SIGNING_KEY_FILE: keys.signingKeyFile,
    AUDIT_VERIFY_KEYS_FILE: keys.verifyKeysFile,
    ...env,
  };
  const child = spawn(process.execPath, [START_SCRIPT], {
    // The scratch copy's own instance, on loopback: it signs a drill company up even where SIGN_UP is closed.
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', BACKGROUND_JOBS: 'false', SIGN_UP: 'open', REDIS_URL: undefined, SMTP_URL: undefined, MAIL_FROM: undefined, LOG_LEVEL: 'error', TLS_CERT_FILE: undefined, TLS_KEY_FILE: undefined, HTTP_REDIRECT_PORT: undefined, NODE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    const url = `http://127.0.0.1:${port}/graphql`;
    if (!(await ready(`http://127.0.0.1:${port}/readyz`, child))) return `Vigil did not start on the restored copy: ${stderr.trim().split('\n').at(-1) ?? 'no output'}`;
    return await signInAndRead(url);
  } finally {
    await stop(child);
  }
}

async function signInAndRead(url: string): Promise<string | null> {
  const slug = `drill-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const signUp = await graphql(url, null, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
    i: { tenantName: 'Restore drill', tenantSlug: slug, email: 'drill@vigil.invalid', password, displayName: 'Restore drill' },
  });
  if (!signUp.data?.signUp) return `signing up the drill company failed: ${signUp.errors?.[0]?.message ?? 'no answer'}`;
  const signIn = await graphql(url, null, 'mutation($i: SignInInput!) { signIn(input: $i) { token } }', { i: { tenantSlug: slug, email: 'drill@vigil.invalid', password } });
  const token = (signIn.data?.signIn as { token?: string } | undefined)?.token;
  if (!token) return `signing in the drill user failed: ${signIn.errors?.[0]?.message ?? 'no answer'}`;
  const read = await graphql(url, token, '{ auditEvents(first: 10) { edges { node { action } } } }', {});
  const actions = ((read.data?.auditEvents as { edges?: Array<{ node: { action: string } }> } | undefined)?.edges ?? []).map((edge) => edge.node.action);
  if (!actions.includes('session.signed_in')) return `the drill user's journal did not show its sign-in: ${read.errors?.[0]?.message ?? JSON.stringify(actions)}`;
  return null;
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string }>;
}

async function graphql(url: string, token: string | null, query: string, variables: Record<string, unknown>): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLAnswer;
}

async function ready(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

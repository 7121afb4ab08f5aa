import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { GraphQLClient } from '../support/client.ts';
import { freshDatabase, testServerUrl } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const running: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(stop));
});

/** `server/start.mjs` as `npm start` runs it, in its own process. */
async function startMain(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn('node_modules/.bin/node', ['server/start.mjs'], {
    env: { PATH: process.env.PATH, PORT: String(port), LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  running.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`Vigil exited with ${child.exitCode}: ${stderr}`);
    return fetch(`${url}/healthz`).then((r) => r.ok, () => false);
  }, 60_000, 200);
  return url;
}

/** The names of a process's threads (Linux). */
function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('npm start', () => {
  test('a port already in use is one sentence that says what to do, not a stack trace', async () => {
    const url = await startMain({ VIGIL_HOME: mkdtempSync(join(tmpdir(), 'vigil-port-')) });
    const port = new URL(url).port;
    const second = spawn('node_modules/.bin/node', ['server/start.mjs'], {
      env: { PATH: process.env.PATH, PORT: port, HOST: '127.0.0.1', LOG_LEVEL: 'error', VIGIL_HOME: mkdtempSync(join(tmpdir(), 'vigil-port-')) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.push(second);
    let stderr = '';
    second.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`127.0.0.1:${port} is in use (another Vigil, or another server): stop it, or set PORT to a free port.`);
  }, 90_000);

  test('without DATABASE_URL: serves GraphQL on the embedded database, whose data survives a restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vigil-start-'));
    const env = { VIGIL_HOME: home, DASHBOARD_DIR: join(home, 'none') };
    const first = await startMain(env);
    const owner = await signUpTenant(new GraphQLClient(first));
    await stop(running.pop()!);
    const second = await startMain(env);
    expect((await signIn(new GraphQLClient(second), { tenantSlug: owner.slug, email: owner.email })).errors).toBeUndefined();
  }, 120_000);

  test('sizes libuv\'s threadpool, where passwords are hashed, to PASSWORD_HASH_CONCURRENCY: never more hashes at once', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vigil-start-'));
    // 3: neither libuv's default (4) nor, on the usual machine, the core count.
    const url = await startMain({ VIGIL_HOME: home, DASHBOARD_DIR: join(home, 'none'), PASSWORD_HASH_CONCURRENCY: '3' });
    const client = new GraphQLClient(url);
    // Hashes at once: the pool's threads all exist once it has been this busy.
    await Promise.all([signUpTenant(client), signUpTenant(client), signUpTenant(client), signUpTenant(client)]);
    expect(threadNames(running.at(-1)!.pid!).filter((name) => name === 'libuv-worker')).toHaveLength(3);
  }, 120_000);

  // Needs a PostgreSQL server (TEST_DATABASE_URL or DATABASE_URL), as in CI; reported as skipped without one.
  test.runIf(testServerUrl())('with DATABASE_URL: creates the database, migrates it and serves GraphQL', async () => {
    const database = freshDatabase();
    const home = mkdtempSync(join(tmpdir(), 'vigil-start-'));
    try {
      const url = await startMain({ VIGIL_HOME: home, DASHBOARD_DIR: join(home, 'none'), DATABASE_URL: database.ownerUrl! });
      const response = await new GraphQLClient(url).request('{ __typename viewer { user { id } } }');
      expect(response.data).toEqual({ __typename: 'Query', viewer: null });
    } finally {
      await Promise.all(running.splice(0).map(stop));
      await database.drop();
    }
  }, 120_000);
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SYSTEM_ORIGIN } from '../../server/src/audit/journal.ts';
import { asOperatorRole } from '../../server/src/platform/operator-work.ts';
import { NoFreeSeat, createOperator } from '../../server/src/platform/operators.ts';
import { platformJournal } from '../../server/src/platform/ops-reads.ts';
import { GraphQLClient } from '../support/client.ts';
import { type TestDatabase, freshDatabase, testServerUrl } from '../support/database.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let home: string;
let database: TestDatabase;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'vigil-operator-cli-'));
  // The server's own configuration: a PostgreSQL server when the suite has one, else the embedded database on disk.
  database = testServerUrl() ? freshDatabase() : { options: { dataDir: join(home, 'data') }, ownerUrl: null, drop: async () => {} };
});
afterAll(async () => {
  await database.drop();
  rmSync(home, { recursive: true, force: true });
});

/** A script of the server's command line, as whoever holds the server runs it: the exit code and what it printed. */
async function run(script: string, args: string[], on: TestDatabase = database, vigilHome = home): Promise<{ code: number; out: string; err: string }> {
  const env: Record<string, string | undefined> = { ...process.env, VIGIL_HOME: vigilHome, LOG_LEVEL: 'silent', DATABASE_URL: on.ownerUrl ?? undefined };
  if (!on.ownerUrl) delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout, err: failed.stderr };
  }
}

/** `npm run operator:create -- …`, and what it wrote to its secrets file. */
async function operatorCreate(email: string, name: string, extra: string[] = ['--secrets-file', join(home, `${email}.txt`)]): Promise<{ code: number; out: string; err: string; secrets: string }> {
  return { ...(await run('scripts/operator-create.ts', ['--email', email, '--name', name, ...extra])), secrets: secretsIn(extra) };
}

/** What the command wrote to its secrets file, or '' when there is none. */
function secretsIn(extra: string[]): string {
  const file = extra[extra.indexOf('--secrets-file') + 1];
  return extra.includes('--secrets-file') && existsSync(file) ? readFileSync(file, 'utf8') : '';
}

test('the command line creates the first operator, a second waiting for approval, and the database refuses a third', async () => {
  // Not a terminal and no file: the password would land in whatever captures the output, so nothing is made.
  const captured = await operatorCreate('olga@vendor.test', 'Olga Operator', []);
  expect(captured.code).toBe(2);
  expect(captured.err).toMatch(/--secrets-file/);

  const created = await operatorCreate('olga@vendor.test', 'Olga Operator');
  expect(created.code).toBe(0);
  expect(created.out).toMatch(/seat 1/);
  expect(created.out).toMatch(/can sign in at \/ops\/ now/);
  const password = /Password.*\n {2}(\S+)/.exec(created.secrets)![1];
  const secret = /secret: (\S+)/.exec(created.secrets)![1];
  expect(created.secrets).toMatch(/otpauth:\/\/totp\//);
  expect(created.out).not.toContain(password);
  expect(created.out).not.toContain(secret);
  expect(statSync(join(home, 'olga@vendor.test.txt')).mode & 0o777).toBe(0o600);
  // An existing file is never overwritten, and no operator is made whose password could not be handed over.
  const refusedFile = await operatorCreate('again@vendor.test', 'Again', ['--secrets-file', join(home, 'olga@vendor.test.txt')]);
  expect(refusedFile.code).toBe(2);
  expect(refusedFile.err).toMatch(/cannot be created \(EEXIST\)/);
  expect(readFileSync(join(home, 'olga@vendor.test.txt'), 'utf8')).toContain(password);

  const second = await operatorCreate('pavel@vendor.test', 'Pavel Operator');
  expect(second.code).toBe(0);
  expect(second.out).toMatch(/seat 2/);
  expect(second.out).toMatch(/once the other operator approves/);

  const third = await operatorCreate('third@vendor.test', 'Third');
  expect(third.code).toBe(1);
  expect(third.err).toMatch(/two operators already.*operator_slot/);
  expect(`${third.out}${third.err}`).not.toMatch(/at .*\.ts:\d+/); // a sentence, not a stack trace

  const taken = await operatorCreate('olga@vendor.test', 'Olga Again', ['--secrets-file', join(home, 'taken.txt')]);
  expect(taken.code).toBe(1);
  expect(existsSync(join(home, 'taken.txt'))).toBe(false);
  const held = await run('scripts/operator-seats.ts', ['--seats', '1']);
  expect(held.code).toBe(1);
  expect(held.err).toMatch(/Seat 2 is held by pavel@vendor\.test: that seat stays/);

  // The server, with the same configuration, lets the first one in with what the command printed.
  const vigil: TestVigil = await startVigil({ database, env: { VIGIL_HOME: home } });
  try {
    const ops = new GraphQLClient(vigil.url, '/ops/graphql');
    const totpCode = await generate({ secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });
    const signed = await ops.ok('mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { operator { email slot } } }', { i: { email: 'olga@vendor.test', password, totpCode } });
    expect(signed.operatorSignIn.operator).toEqual({ email: 'olga@vendor.test', slot: 1 });
  } finally {
    await vigil.stop();
  }
}, 120_000);

test('the cap goes down from the command line, never back up: the database itself refuses a new seat', async () => {
  // Another server: its own home (the embedded database lives in it) and database.
  const otherHome = mkdtempSync(join(tmpdir(), 'vigil-operator-seats-'));
  const other: TestDatabase = testServerUrl() ? freshDatabase() : { options: { dataDir: join(otherHome, 'data') }, ownerUrl: null, drop: async () => rmSync(otherHome, { recursive: true, force: true }) };
  try {
    const seats = (n: string) => run('scripts/operator-seats.ts', ['--seats', n], other, otherHome);
    expect((await seats('0')).code).toBe(1);
    const lowered = await seats('1');
    expect(lowered).toMatchObject({ code: 0 });
    expect(lowered.out).toMatch(/Seat 2 removed/);
    const raised = await seats('2');
    expect(raised.code).toBe(1);
    expect(raised.err).toMatch(/downward only: Vigil has 1 seat/);

    const vigil: TestVigil = await startVigil({ database: other, env: { VIGIL_HOME: otherHome } });
    try {
      await createOperator(vigil.services, { email: 'solo@vendor.test', displayName: 'Solo Operator' });
      await expect(createOperator(vigil.services, { email: 'second@vendor.test', displayName: 'Second' })).rejects.toBeInstanceOf(NoFreeSeat);
      const adding = asOperatorRole(vigil.services, SYSTEM_ORIGIN, null, ({ em }) => em.execute('insert into operator_slot (slot) values (2)'));
      await expect(adding).rejects.toMatchObject({ code: '42501' });
      const journal = await asOperatorRole(vigil.services, SYSTEM_ORIGIN, null, ({ em }) => platformJournal(em, null, 50));
      expect(journal.find((e) => e.action === 'operator.seats_lowered')?.details).toEqual({ seats: 1, removed: [2] });
    } finally {
      await vigil.stop();
    }
  } finally {
    await other.drop();
    rmSync(otherHome, { recursive: true, force: true });
  }
}, 120_000);

test('the embedded database has one process at a time: the command line refuses while a Vigil holds it, and works once it stopped', async () => {
  const ownHome = mkdtempSync(join(tmpdir(), 'vigil-embedded-lock-'));
  const embedded: TestDatabase = { options: { dataDir: join(ownHome, 'data') }, ownerUrl: null, drop: async () => {} };
  try {
    const vigil: TestVigil = await startVigil({ database: embedded, env: { VIGIL_HOME: ownHome } });
    let refused: Awaited<ReturnType<typeof run>>;
    try {
      refused = await run('scripts/operator-seats.ts', ['--seats', '1'], embedded, ownHome);
    } finally {
      await vigil.stop();
    }
    expect(refused.code).toBe(2);
    expect(refused.err.trim()).toBe(`The embedded database ${join(ownHome, 'data')} is in use by process ${process.pid} (a running Vigil?): stop it first, or set DATABASE_URL to a PostgreSQL server.`);
    const after = await run('scripts/operator-seats.ts', ['--seats', '1'], embedded, ownHome);
    expect(after).toMatchObject({ code: 0 });
    expect(existsSync(`${join(ownHome, 'data')}.lock`)).toBe(false);
  } finally {
    rmSync(ownHome, { recursive: true, force: true });
  }
}, 120_000);

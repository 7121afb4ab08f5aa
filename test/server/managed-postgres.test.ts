import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'otplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../server/src/config-error.ts';
import { reapplyPurgesTo } from '../../server/src/backups/restore.ts';
import { executedDeletion, operationState, purgeDue } from '../support/critical-ops.ts';
import { openDatabase } from '../../server/src/db/database.ts';
import { Locators } from '../../server/src/db/locators.ts';
import { LOCATOR_ROLE } from '../../server/src/db/tenancy.ts';
import { errorCode } from '../support/client.ts';
import { AUTH_FIELDS, STRONG_PASSWORD, VIEWER_ID, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { asAppRole, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { expectCrossTenantWritesRefused, expectIdsOfAnotherTenantNotFound, expectRawSelectsWalled } from '../support/walls.ts';

/**
 * The owner of a managed PostgreSQL (RDS, Cloud SQL, Azure) is CREATEDB CREATEROLE and nothing more: no
 * superuser, no BYPASSRLS, so forced row-level security blinds it. Vigil must work fully on such a server,
 * and refuse to start when a role it relies on is misconfigured. A private cluster, so that roles can be
 * broken without touching the suite's server.
 */
const OWNER = 'rds_master';

let cluster: PostgresCluster;
let vigil: TestVigil;
let ownerUrl: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  await cluster.query(`create role ${OWNER} login createdb createrole`);
  ownerUrl = `postgresql://${OWNER}@127.0.0.1:${cluster.port}/vigil`;
  vigil = await startVigil({ database: { options: { databaseUrl: ownerUrl, dataDir: 'memory://' }, ownerUrl, superuserUrl: cluster.superuserUrl('vigil'), drop: async () => {} } });
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await cluster?.destroy();
});

async function asManagedOwner<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('on a database owned by a CREATEDB CREATEROLE role', () => {
  test('the owner has no superuser and no BYPASSRLS, and forced row-level security hides every tenant row from it', async () => {
    const owner = await signUpTenant(vigil.client());
    const [role, users] = await asManagedOwner(async (c) => [
      (await c.query('select rolsuper, rolbypassrls, rolcreatedb, rolcreaterole from pg_roles where rolname = current_user')).rows[0],
      (await c.query('select count(*)::int as n from app_user where tenant_id = $1', [owner.tenantId])).rows[0].n,
    ]);
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcreatedb: true, rolcreaterole: true });
    expect(users).toBe(0);
  });

  test('sign-up, sign-in, viewer, journal, sign-out', async () => {
    const client = vigil.client();
    const owner = await signUpTenant(client);
    const signedIn = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    expect(signedIn.errors).toBeUndefined();
    const session = bearerClient(vigil, signedIn.data!.signIn.token);
    expect((await session.ok(VIEWER_ID)).viewer).toEqual({ user: { id: owner.userId }, session: { id: signedIn.data!.signIn.session.id } });
    const journal = await session.ok('{ auditEvents(first: 10) { edges { node { action } } } }');
    expect(journal.auditEvents.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(expect.arrayContaining(['tenant.created', 'session.signed_in']));
    expect((await session.ok('{ verifyAuditChain { ok } }')).verifyAuditChain.ok).toBe(true);
    expect((await session.ok('mutation { signOut }')).signOut).toBe(true);
    expect((await session.request(VIEWER_ID)).data).toEqual({ viewer: null });
    const wrong = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'not the password at all' });
    expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
    expect((await auditRows(vigil, owner.tenantId)).map((r) => r.action)).toEqual(expect.arrayContaining(['session.signed_out', 'session.sign_in_failed']));
  });

  test('every locator finds its tenant, through the API and called directly', async () => {
    const client = vigil.client();
    const owner = await signUpTenant(client);
    const ownerClient = bearerClient(vigil, owner.token);
    const key = (await ownerClient.ok('mutation { createApiKey(input: { name: "k", permissions: ["users.read"] }) { key { id } secret } }')).createApiKey;
    expect((await bearerClient(vigil, key.secret).ok('{ users { id } }')).users).toEqual([{ id: owner.userId }]);
    const employee = await inviteEmployee(ownerClient, 'Employee');
    const roles = (await ownerClient.ok('{ roles { id name } }')).roles as Array<{ id: string; name: string }>;
    const invitation = (await ownerClient.ok('mutation($r: ID!) { inviteUser(email: "later@acme.test", roleId: $r) { token } }', { r: roles.find((r) => r.name === 'Employee')!.id })).inviteUser.token as string;
    const reset = (await ownerClient.ok('mutation($u: ID!) { resetUserPassword(userId: $u) { token } }', { u: employee.userId })).resetUserPassword.token as string;
    const enrollment = (await ownerClient.ok(`mutation { enrollTotp(currentPassword: "${STRONG_PASSWORD}") { secret } }`)).enrollTotp;
    await ownerClient.ok('mutation($c: String!) { confirmTotp(code: $c) }', { c: await generate({ secret: enrollment.secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) }) });
    const totpRequired = await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email });
    expect(errorCode(totpRequired)).toBe('TOTP_REQUIRED');
    const challenge = totpRequired.errors![0].extensions!.challenge as string;

    const locators = new Locators(vigil.services.db);
    const idOf = (token: string) => token.split('.')[0];
    expect(await locators.tenantBySlug(owner.slug)).toBe(owner.tenantId);
    expect(await locators.tenantOfSession(owner.sessionId)).toBe(owner.tenantId);
    expect(await locators.tenantOfApiKey(key.key.id)).toBe(owner.tenantId);
    expect(await locators.tenantOfInvitation(idOf(invitation))).toBe(owner.tenantId);
    expect(await locators.tenantOfPasswordReset(idOf(reset))).toBe(owner.tenantId);
    expect(await locators.tenantOfChallenge(idOf(challenge))).toBe(owner.tenantId);
    expect(await locators.allTenantIds()).toContain(owner.tenantId);
    expect(await locators.tenantOfSession(crypto.randomUUID())).toBeNull();

    const accepted = await vigil.client().request(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`, {
      i: { token: invitation, password: STRONG_PASSWORD, displayName: 'Later' },
    });
    expect(accepted.errors).toBeUndefined();
    const completed = await vigil.client().request(`mutation($i: CompletePasswordResetInput!) { completePasswordReset(input: $i) { ${AUTH_FIELDS} } }`, {
      i: { token: reset, newPassword: 'a brand new passphrase' },
    });
    expect(completed.errors).toBeUndefined();
  });

  test('wall 2: a raw SELECT as the application role sees nothing without a tenant, and nothing of B as A', () => expectRawSelectsWalled(vigil));

  test('wall 2: writing a row for another tenant is refused', () => expectCrossTenantWritesRefused(vigil));

  test('wall 1: every id of tenant B, through every id-taking field, is NOT_FOUND to tenant A', () => expectIdsOfAnotherTenantNotFound(vigil), 120_000);

  test("the locators' role cannot log in, nobody is a member of it, and the application cannot become it", async () => {
    const login = new pg.Client({ connectionString: `postgresql://${LOCATOR_ROLE}@127.0.0.1:${cluster.port}/vigil` });
    await expect(login.connect()).rejects.toThrow(/not permitted to log in/);
    const members = await cluster.query<{ member: string }>(`select m.rolname as member from pg_auth_members a join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member where r.rolname = $1`, [LOCATOR_ROLE]);
    expect(members).toEqual([]);
    const refused = await asAppRole(vigil, (q) => q(`set role ${LOCATOR_ROLE}`).then(() => 'became it', (e: Error) => e.message));
    expect(refused).toMatch(/permission denied/);
  });
});

describe('refuses to start, with one line saying what is wrong and how to fix it', () => {
  const MISCONFIGURATIONS: Array<{ name: string; breakSql: string; mendSql: string; message: RegExp }> = [
    { name: 'vigil_app has BYPASSRLS', breakSql: 'alter role vigil_app bypassrls', mendSql: 'alter role vigil_app nobypassrls', message: /vigil_app has BYPASSRLS; ALTER ROLE vigil_app NOBYPASSRLS/ },
    { name: 'vigil_app is a superuser', breakSql: 'alter role vigil_app superuser', mendSql: 'alter role vigil_app nosuperuser', message: /vigil_app is a superuser.*ALTER ROLE vigil_app NOSUPERUSER/ },
    { name: 'vigil_app is a member of the locators\' role', breakSql: `grant ${LOCATOR_ROLE} to vigil_app`, mendSql: `revoke ${LOCATOR_ROLE} from vigil_app`, message: /vigil_app is a member of vigil_locator.*REVOKE vigil_locator FROM vigil_app/ },
    { name: 'vigil_app is a member of the owner', breakSql: `grant ${OWNER} to vigil_app`, mendSql: `revoke ${OWNER} from vigil_app`, message: new RegExp(`vigil_app is a member of ${OWNER}, which owns the tables`) },
    { name: 'vigil_app owns a table', breakSql: 'create table stray (x int); alter table stray owner to vigil_app', mendSql: 'drop table stray', message: /vigil_app owns stray/ },
    { name: 'the locators\' role can log in', breakSql: `alter role ${LOCATOR_ROLE} login`, mendSql: `alter role ${LOCATOR_ROLE} nologin`, message: /vigil_locator can log in.*NOLOGIN/ },
    { name: 'a locator is owned by someone else', breakSql: `alter function vigil_tenant_by_slug(text) owner to ${OWNER}`, mendSql: `alter function vigil_tenant_by_slug(text) owner to ${LOCATOR_ROLE}`, message: /vigil_tenant_by_slug \(owned by rds_master\) must belong to vigil_locator/ },
  ];

  test.each(MISCONFIGURATIONS)('$name', async ({ breakSql, mendSql, message }) => {
    for (const sql of breakSql.split('; ')) await cluster.query(sql, [], 'vigil');
    try {
      const error = await openDatabase({ databaseUrl: ownerUrl, dataDir: 'memory://' }).then(
        async (db) => {
          await db.close();
          return null;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^Refusing to start: [^\n]+\.$/);
    } finally {
      for (const sql of mendSql.split('; ')) await cluster.query(sql, [], 'vigil');
    }
    // Mended, it starts again.
    await (await openDatabase({ databaseUrl: ownerUrl, dataDir: 'memory://' })).close();
  });

  test('an owner that cannot create the roles it needs', async () => {
    const bare = await startPostgresCluster();
    try {
      await bare.query('create role plain_owner login createdb');
      const error = await openDatabase({ databaseUrl: `postgresql://plain_owner@127.0.0.1:${bare.port}/vigil`, dataDir: 'memory://' }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/plain_owner cannot create the role\(s\) vigil_app, vigil_locator, vigil_ops; ALTER ROLE plain_owner CREATEROLE/);
    } finally {
      await bare.destroy();
    }
  }, 60_000);

  test('the process exits non-zero with that one line', async () => {
    await cluster.query('alter role vigil_app bypassrls');
    try {
      const home = mkdtempSync(join(tmpdir(), 'vigil-refuse-'));
      const child = spawn('node_modules/.bin/node', ['server/start.mjs'], {
        env: { PATH: process.env.PATH, PORT: '0', VIGIL_HOME: home, DASHBOARD_DIR: join(home, 'none'), DATABASE_URL: ownerUrl, LOG_LEVEL: 'error' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += String(chunk)));
      // A Vigil that starts anyway would never exit: give it a bounded time, then count that as a failure.
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      expect(code).not.toBe(0);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Refusing to start: vigil_app has BYPASSRLS; ALTER ROLE vigil_app NOBYPASSRLS\.$/)]);
    } finally {
      await cluster.query('alter role vigil_app nobypassrls');
    }
  }, 60_000);
});

describe('a purged company in a copy restored from before its purge (a provider’s point-in-time recovery)', () => {
  test('is removed again when Vigil opens the copy, by an owner without superuser, and the copy’s other companies stay', async () => {
    const gone = await executedDeletion(vigil);
    const bystander = await signUpTenant(vigil.client());
    const dump = join(mkdtempSync(join(tmpdir(), 'vigil-pitr-')), 'before-purge.pgc');
    chmodSync(dirname(dump), 0o777);
    await postgresTool('pg_dump', ['-h', cluster.socketDir, '-p', String(cluster.port), '-Fc', '-f', dump, 'vigil']);
    await purgeDue(vigil);
    expect(await operationState(vigil, gone.operationId)).toBe('purged');

    await cluster.query(`create database vigil_pitr owner ${OWNER}`);
    await postgresTool('pg_restore', ['-h', cluster.socketDir, '-p', String(cluster.port), '-d', 'vigil_pitr', dump]);
    const rowsOf = async (tenantId: string) => Number((await cluster.query<{ n: string }>('select count(*) as n from app_user where tenant_id = $1', [tenantId], 'vigil_pitr'))[0].n);
    expect(await rowsOf(gone.tenantId)).toBe(3);

    const pitrUrl = ownerUrl.replace(/\/vigil$/, '/vigil_pitr');
    expect(await reapplyPurgesTo(vigil.config, { databaseUrl: pitrUrl, dataDir: 'memory://' })).toEqual({ reapplied: [gone.tenantId], refused: [] });
    expect(await rowsOf(gone.tenantId)).toBe(0);
    expect(await rowsOf(bystander.tenantId)).toBe(1);
    expect(Number((await cluster.query<{ n: string }>('select count(*) as n from audit_event where tenant_id = $1', [gone.tenantId], 'vigil_pitr'))[0].n)).toBe(0);
    // The journal is append-only again once the receipt is applied, for the owner too.
    const [trigger] = await cluster.query<{ tgenabled: string }>("select tgenabled from pg_trigger where tgname = 'audit_event_append_only'", [], 'vigil_pitr');
    expect(trigger.tgenabled).toBe('O');
  }, 120_000);
});

/** pg_dump and pg_restore as the superuser, over the cluster's socket (as the postgres OS user when root). */
async function postgresTool(name: string, args: string[]): Promise<void> {
  const binary = `/usr/lib/postgresql/15/bin/${name}`;
  const asRoot = process.getuid?.() === 0;
  await promisify(execFile)(asRoot ? 'runuser' : binary, asRoot ? ['-u', 'postgres', '--', binary, '-U', 'postgres', ...args] : ['-U', 'postgres', ...args]);
}

import { type GraphQLObjectType, getNamedType, isObjectType } from 'graphql';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { verifyChain } from '../../server/src/audit/verify.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { OPERATOR_SESSION_POLICY } from '../../server/src/platform/operator-viewer.ts';
import { type CreatedOperator, NoFreeSeat, createOperator } from '../../server/src/platform/operators.ts';
import { opsSchema } from '../../server/src/platform/ops-schema.ts';
import { schema as tenantSchema } from '../../server/src/schema.ts';
import { GraphQLClient, errorCode } from '../support/client.ts';
import { bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { asOwner } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { tenantTables } from '../support/walls.ts';

let vigil: TestVigil;
let first: CreatedOperator;
beforeAll(async () => {
  vigil = await startVigil();
  first = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
});
afterAll(async () => vigil?.stop());

const ops = () => new GraphQLClient(vigil.url, '/ops/graphql');
const codeOf = (operator: CreatedOperator, offsetSteps = 0) => generate({ secret: operator.totp.secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) + offsetSteps * 30 });
const SIGN_IN = 'mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { token operator { id email slot } } }';

/** Signs an operator in; each call moves the clock a step on, so that every sign-in has a code of its own. */
async function signedIn(operator: CreatedOperator) {
  vigil.clock.advance(30);
  const client = ops();
  await client.ok(SIGN_IN, { i: { email: operator.email, password: operator.password, totpCode: await codeOf(operator) } });
  return client;
}

describe('the operators are a realm of their own, two at most', () => {
  test('the first operator, created on the command line, signs in with password and code; the cookie is HttpOnly and SameSite=Strict', async () => {
    expect(first).toMatchObject({ slot: 1, pending: false });
    expect(first.password.length).toBeGreaterThanOrEqual(24);
    const client = ops();
    const result = await client.request(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: await codeOf(first) } });
    expect(result.errors).toBeUndefined();
    expect(result.data!.operatorSignIn.operator).toMatchObject({ email: first.email, slot: 1 });
    expect(result.data!.operatorSignIn.token).toMatch(/^vop_[0-9a-f-]{36}\.[\w-]{43}$/);
    const cookie = result.headers.getSetCookie().find((c) => c.startsWith('vigil-op='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect((await client.ok('{ me { email } }')).me).toEqual({ email: first.email });
  });

  test('without the code, or with a wrong or replayed one, there is no session, and each failure is in the platform journal', async () => {
    vigil.clock.advance(30);
    const code = await codeOf(first);
    expect(errorCode(await ops().request(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: '000000' } }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await ops().request(SIGN_IN, { i: { email: first.email, password: 'not the password', totpCode: code } }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await ops().request(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: '' } }))).toBe('BAD_USER_INPUT');
    await ops().ok(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: code } });
    expect(errorCode(await ops().request(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: code } }))).toBe('INVALID_CREDENTIALS');
    const client = await signedIn(first);
    const journal = (await client.ok('{ platformJournal(first: 20) { action details } }')).platformJournal as Array<{ action: string; details: Record<string, unknown> }>;
    const failures = journal.filter((e) => e.action === 'operator.sign_in_failed');
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(journal)).not.toContain(first.password);
  });

  test('a second operator waits for the first, who approves with a fresh proof; the same request then succeeds', async () => {
    const second = await createOperator(vigil.services, { email: 'pavel@vendor.test', displayName: 'Pavel Operator' });
    expect(second).toMatchObject({ slot: 2, pending: true });
    vigil.clock.advance(30);
    const waiting = await ops().request(SIGN_IN, { i: { email: second.email, password: second.password, totpCode: await codeOf(second) } });
    expect(errorCode(waiting)).toBe('FORBIDDEN');

    const approver = await signedIn(first);
    vigil.clock.advance(OPERATOR_SESSION_POLICY.idleSeconds - 60); // active but with an old proof
    const APPROVE = 'mutation($id: ID!) { approveOperator(id: $id) { email approvedAt } }';
    const refused = await approver.request(APPROVE, { id: second.id });
    expect(errorCode(refused)).toBe('STEP_UP_REQUIRED');
    expect(refused.errors![0].extensions!.maxAgeSeconds).toBe(300);
    vigil.clock.advance(30);
    await approver.ok('mutation($i: OperatorProofInput!) { operatorStepUp(input: $i) { proofValidUntil } }', { i: { password: first.password, totpCode: await codeOf(first) } });
    const approved = (await approver.ok(APPROVE, { id: second.id })).approveOperator;
    expect(approved.approvedAt).not.toBeNull();
    expect(errorCode(await approver.request(APPROVE, { id: second.id }))).toBe('FAILED_PRECONDITION');
    const secondClient = await signedIn(second);
    expect((await secondClient.ok('{ operators { slot approvedAt } }')).operators.map((o: { slot: number }) => o.slot)).toEqual([1, 2]);
  });

  test('a third operator fails in the database itself: no seat 3 can exist, seats 1 and 2 are taken', async () => {
    await expect(createOperator(vigil.services, { email: 'third@vendor.test', displayName: 'Third' })).rejects.toBeInstanceOf(NoFreeSeat);
    const codes = await asOwner(vigil, async (q) => {
      const attempt = (sql: string) => q(sql).then(() => 'inserted', (e: { code: string }) => e.code);
      const row = (slot: number, email: string) =>
        `insert into platform_operator (id, slot, email, display_name, password_hash, totp_secret_enc, created_at) values (gen_random_uuid(), ${slot}, '${email}', 'x', 'x', 'x', now())`;
      return {
        seatThree: await attempt('insert into operator_slot (slot) values (3)'),
        operatorInSeatThree: await attempt(row(3, 'a@vendor.test')),
        operatorInTakenSeat: await attempt(row(1, 'b@vendor.test')),
      };
    });
    expect(codes).toEqual({ seatThree: '23514', operatorInSeatThree: '23503', operatorInTakenSeat: '23505' });
  });
});

describe('operators see no tenant data, by construction', () => {
  test("the operators' database role holds no privilege on any tenant table, and reading one is a permission error", async () => {
    await signUpTenant(vigil.client());
    const tables = await tenantTables(vigil);
    expect(tables.length).toBeGreaterThanOrEqual(14);
    const held = await vigil.services.db.asOperatorRole((em) =>
      em.execute<Array<{ t: string }>>(
        `select t from unnest(?::text[]) t where has_table_privilege(current_user, t, 'select, insert, update, delete, truncate, references, trigger')`,
        [`{${tables.join(',')}}`],
      ),
    );
    expect(held).toEqual([]);
    for (const table of ['app_user', 'session', 'api_key', 'audit_event', 'tenant']) {
      const refused = await vigil.services.db.asOperatorRole((em) => em.execute(`select * from "${table}" limit 1`)).then(() => 'read', (e: { code: string }) => e.code);
      expect({ table, refused }).toEqual({ table, refused: '42501' });
    }
  });

  test('what they do see of a company is its id, name, state, creation and head count', async () => {
    const company = await signUpTenant(vigil.client(), { tenantName: 'Summary Co' });
    const client = await signedIn(first);
    const tenants = (await client.ok('{ tenants { id name state createdAt userCount } }')).tenants as Array<Record<string, unknown>>;
    expect(tenants.find((t) => t.id === company.tenantId)).toMatchObject({ name: 'Summary Co', state: 'active', userCount: 1 });
    expect(tenants.some((t) => t.id === PLATFORM_TENANT_ID)).toBe(false);
  });

  test('a walk of the operators\u2019 schema reaches no type of the tenant realm: no user, session, key or journal entry', () => {
    const reachable = new Set<string>();
    const visit = (type: GraphQLObjectType) => {
      if (reachable.has(type.name)) return;
      reachable.add(type.name);
      for (const field of Object.values(type.getFields())) {
        const named = getNamedType(field.type);
        if (isObjectType(named)) visit(named);
      }
    };
    for (const root of [opsSchema.getQueryType(), opsSchema.getMutationType()]) if (root) visit(root);
    expect([...reachable].sort()).toEqual(['BackupStatus', 'CriticalOperationReview', 'CurrentOperator', 'LastBackup', 'LastBackupFailure', 'LastDrill', 'Mutation', 'Operator', 'OperatorAuth', 'PlatformEvent', 'Query', 'SupportGrantReview', 'SupportSessionOpened', 'TenantSummary']);
    const tenantTypes = Object.values(tenantSchema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__')).map((t) => t.name);
    expect(tenantTypes.filter((name) => reachable.has(name) && !['Query', 'Mutation'].includes(name))).toEqual([]);
    expect(tenantTypes).toEqual(expect.arrayContaining(['User', 'Session', 'ApiKey', 'AuditEvent']));
    const fieldNames = [...reachable].flatMap((name) => Object.keys((opsSchema.getType(name) as GraphQLObjectType).getFields()));
    // openSupportSession opens the operator's own read-only credential under a company's grant: no session of the company.
    expect(fieldNames.filter((f) => /user|session(?!ExpiresAt)|apiKey|auditEvent/i.test(f)).sort()).toEqual(['openSupportSession', 'userCount']);
    // A transfer's parameters name the new owner by an opaque id, which the intent hash covers: no user behind it.
    expect(Object.keys((opsSchema.getType('CriticalOperationReview') as GraphQLObjectType).getFields())).not.toContain('newOwner');
  });

  test("every field of the operators' schema has its own scopes, and only their sign-in and `me` are public", () => {
    const scopesOf = (owner: { extensions?: unknown }) => (owner.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions?.authScopes;
    const unguarded: string[] = [];
    const publicFields: string[] = [];
    for (const type of Object.values(opsSchema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const root = type === opsSchema.getQueryType() || type === opsSchema.getMutationType();
      if (!root && !scopesOf(type)) unguarded.push(type.name);
      for (const field of Object.values(type.getFields())) {
        const scopes = scopesOf(field);
        if (root && !scopes) unguarded.push(`${type.name}.${field.name}`);
        if (root && scopes && typeof scopes === 'object' && 'public' in scopes) publicFields.push(`${type.name}.${field.name}`);
      }
    }
    expect(unguarded).toEqual([]);
    expect(publicFields.sort()).toEqual(['Mutation.operatorSignIn', 'Query.me']);
  });

  test("the platform journal they read holds their own work, not sign-in attempts against unknown companies (an email typed there is a customer's)", async () => {
    await signIn(vigil.client(), { tenantSlug: 'no-such-company', email: 'someone@customer.test', password: 'whatever it is' });
    const client = await signedIn(first);
    const journal = (await client.ok('{ platformJournal(first: 200) { action details } }')).platformJournal as Array<{ action: string }>;
    expect(journal.length).toBeGreaterThan(0);
    expect(journal.every((e) => e.action.startsWith('operator.'))).toBe(true);
    expect(JSON.stringify(journal)).not.toContain('someone@customer.test');
  });
});

describe('neither realm accepts the other one\u2019s credential', () => {
  test("a company's session token or cookie is no credential on /ops/graphql", async () => {
    const client = vigil.client();
    const owner = await signUpTenant(client);
    const withToken = ops();
    withToken.bearer = owner.token;
    expect((await withToken.ok('{ me { id } }')).me).toBeNull();
    expect(errorCode(await withToken.request('{ tenants { id } }'))).toBe('UNAUTHENTICATED');
    const withCookie = ops();
    for (const [name, value] of client.cookies) withCookie.cookies.set(name, value);
    expect(withCookie.cookies.size).toBeGreaterThan(0);
    expect(errorCode(await withCookie.request('{ operators { id } }'))).toBe('UNAUTHENTICATED');
    expect((await bearerClient(vigil, owner.token).ok('{ viewer { user { id } } }')).viewer.user.id).toBe(owner.userId);
  });

  test("an operator's token or cookie is no credential on /graphql", async () => {
    vigil.clock.advance(30);
    const signed = await ops().ok(SIGN_IN, { i: { email: first.email, password: first.password, totpCode: await codeOf(first) } });
    const asBearer = bearerClient(vigil, signed.operatorSignIn.token);
    expect((await asBearer.ok('{ viewer { user { id } } }')).viewer).toBeNull();
    expect(errorCode(await asBearer.request('{ users { id } }'))).toBe('UNAUTHENTICATED');
    const asCookie = vigil.client();
    asCookie.cookies.set('vigil-op', signed.operatorSignIn.token);
    asCookie.cookies.set('vigil_session', signed.operatorSignIn.token);
    expect(errorCode(await asCookie.request('{ users { id } }'))).toBe('UNAUTHENTICATED');
  });

  test("a company's catalogue of actions does not list the operators' ones", async () => {
    const owner = bearerClient(vigil, (await signUpTenant(vigil.client())).token);
    const actions = (await owner.ok('{ auditActions { action } }')).auditActions.map((a: { action: string }) => a.action);
    expect(actions).toContain('session.signed_in');
    expect(actions.filter((a: string) => a.startsWith('operator.'))).toEqual([]);
  });
});

describe("an operator's session", () => {
  test('ends after 15 idle minutes', async () => {
    const client = await signedIn(first);
    vigil.clock.advance(OPERATOR_SESSION_POLICY.idleSeconds - 1);
    expect((await client.ok('{ me { email } }')).me).not.toBeNull();
    vigil.clock.advance(OPERATOR_SESSION_POLICY.idleSeconds);
    expect((await client.ok('{ me { email } }')).me).toBeNull();
  });

  test('ends after 8 hours however active, and at sign-out', async () => {
    const client = await signedIn(first);
    for (let elapsed = 0; elapsed < OPERATOR_SESSION_POLICY.absoluteSeconds - 600; elapsed += 600) {
      vigil.clock.advance(600);
      expect((await client.ok('{ me { email } }')).me).not.toBeNull();
    }
    vigil.clock.advance(601);
    expect((await client.ok('{ me { email } }')).me).toBeNull();
    const other = await signedIn(first);
    expect((await other.ok('mutation { operatorSignOut }')).operatorSignOut).toBe(true);
    expect((await other.ok('{ me { email } }')).me).toBeNull();
  });

  test('every step is in the platform journal, and its chain verifies', async () => {
    const report = await verifyChain(
      vigil.services.db.forTenant(PLATFORM_TENANT_ID),
      verifiedCheckpoints(vigil.config.checkpointsDir, vigil.services.keys.auditVerifyKey, PLATFORM_TENANT_ID),
    );
    expect(report.ok).toBe(true);
    const actions = await asOwner(vigil, (q) => q<{ action: string }>(`select distinct action from audit_event where tenant_id = $1 and action like 'operator.%'`, [PLATFORM_TENANT_ID]));
    expect(actions.map((a) => a.action).sort()).toEqual(['operator.approved', 'operator.created', 'operator.sign_in_failed', 'operator.signed_in', 'operator.signed_out', 'operator.stepped_up']);
  });
});

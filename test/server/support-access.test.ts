import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { verifyChain } from '../../server/src/audit/verify.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { authenticateSupport } from '../../server/src/support/support-access.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { GraphQLClient, errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, companyWithStaff, signIn } from '../support/factories.ts';
import { nextOperatorCode, signedInOperator } from '../support/operator-console.ts';
import { collect, liveClient } from '../support/live.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

let vigil: TestVigil;
let olga: CreatedOperator;
let pavel: CreatedOperator;

const STEP_UP = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';
const GRANT = 'mutation($i: GrantSupportAccessInput!) { grantSupportAccess(input: $i) { id kind scopes expiresAt inForce } }';
const OPEN = 'mutation($g: ID!) { openSupportSession(grantId: $g) { token expiresAt grant { id tenantName scopes } } }';
const FEED = 'subscription { auditEvents(afterSeq: 0) { seq action actorType actorId details } }';

const operatorConsole = (operator: CreatedOperator) => signedInOperator(vigil, operator);

beforeAll(async () => {
  vigil = await startVigil();
  olga = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
  pavel = await createOperator(vigil.services, { email: 'pavel@vendor.test', displayName: 'Pavel Operator' });
  await (await operatorConsole(olga)).ok('mutation($id: ID!) { approveOperator(id: $id) { id } }', { id: pavel.id });
});
afterAll(async () => vigil?.stop());

const company = () => companyWithStaff(vigil);

async function granted(scopes: string[], hours?: number) {
  const c = await company();
  const grant = (await c.client.ok(GRANT, { i: { reason: 'Customer reports failing sign-ins', caseReference: 'CASE-4711', scopes, hours } })).grantSupportAccess;
  const ops = await operatorConsole(olga);
  const opened = (await ops.ok(OPEN, { g: grant.id })).openSupportSession;
  const support = vigil.client();
  support.bearer = opened.token;
  return { ...c, grant, ops, opened, support };
}

const supportAccesses = async (tenantId: string) => (await auditRows(vigil, tenantId)).filter((r) => r.action === 'support.access');

describe('the owner grants', () => {
  test('only the owner, with a fresh proof, scoped and time-boxed (8 h by default, 72 h at most); journalled', async () => {
    const c = await company();
    const input = { reason: 'Customer reports failing sign-ins', caseReference: 'CASE-1', scopes: ['JOURNAL'] };
    expect(errorCode(await c.admin.client.request(GRANT, { i: input }))).toBe('FORBIDDEN');
    expect(errorCode(await c.employee.client.request(GRANT, { i: input }))).toBe('FORBIDDEN');
    vigil.clock.advance(301);
    expect(errorCode(await c.client.request(GRANT, { i: input }))).toBe('STEP_UP_REQUIRED');
    await c.client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    expect(errorCode(await c.client.request(GRANT, { i: { ...input, hours: 73 } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await c.client.request(GRANT, { i: { ...input, scopes: [] } }))).toBe('BAD_USER_INPUT');
    const grant = (await c.client.ok(GRANT, { i: input })).grantSupportAccess;
    expect(grant).toMatchObject({ kind: 'GRANT', scopes: ['JOURNAL'], inForce: true });
    expect(new Date(grant.expiresAt).getTime() - vigil.clock.now().getTime()).toBeGreaterThan(8 * 3600_000 - 10_000);
    expect(new Date(grant.expiresAt).getTime() - vigil.clock.now().getTime()).toBeLessThanOrEqual(8 * 3600_000);
    const event = (await auditRows(vigil, c.tenantId)).find((r) => r.action === 'support.granted');
    expect(event?.details).toMatchObject({ caseReference: 'CASE-1', scopes: ['journal'] });
    const listed = (await c.admin.client.ok('{ supportGrants { id inForce } }')).supportGrants;
    expect(listed).toEqual([{ id: grant.id, inForce: true }]);
    expect(errorCode(await c.employee.client.request('{ supportGrants { id } }'))).toBe('FORBIDDEN');
  });
});

describe('support works under the grant, read-only', () => {
  test('reads what the scopes allow and nothing else; every request is exactly one support.access, live on the company\u2019s feed', async () => {
    const g = await granted(['JOURNAL']);
    expect(g.opened.grant).toMatchObject({ id: g.grant.id, scopes: ['journal'] });
    expect(g.opened.token).toMatch(/^vsp_/);
    expect(new Date(g.opened.expiresAt).getTime()).toBe(new Date(g.grant.expiresAt).getTime()); // 8 hours: the grant's end and a session's longest
    const watching = liveClient(vigil.url, { token: g.token });
    const feed = collect<{ auditEvents: { action: string; actorType: string; actorId: string; details: any } }>(watching, FEED);
    await feed.until((items) => items.some((i) => i.auditEvents.action === 'audit.stream_opened'));
    const before = (await supportAccesses(g.tenantId)).length; // opening the session is one

    const journal = await g.support.ok('query Look { auditEvents(first: 5) { edges { node { action } } } }');
    expect(journal.auditEvents.edges.length).toBeGreaterThan(0);
    expect(errorCode(await g.support.request('query People { users { id email } }'))).toBe('FORBIDDEN');
    expect(errorCode(await g.support.request('{ criticalOperations { id } }'))).toBe('FORBIDDEN');
    expect((await g.support.ok('{ viewer { user { id role { name } } } }')).viewer.user).toEqual({ id: olga.id, role: { name: 'Platform support (read-only)' } });

    const accesses = await supportAccesses(g.tenantId);
    expect(accesses).toHaveLength(before + 4);
    const look = accesses.find((r) => r.details.operation.name === 'Look')!;
    expect(look).toMatchObject({ actor_type: 'operator', actor_id: olga.id, outcome: 'success' });
    expect(look.details).toMatchObject({ operatorId: olga.id, grantId: g.grant.id, caseReference: 'CASE-4711', operation: { type: 'query', fields: ['auditEvents'] } });
    await feed.until((items) => items.filter((i) => i.auditEvents.action === 'support.access').length >= 4);
    feed.stop();
    await watching.dispose();
  });

  test('a mutation is refused and journalled as denied; the transaction under a grant is read-only in the database itself', async () => {
    const g = await granted(['JOURNAL', 'PEOPLE', 'CRITICAL_OPERATIONS']);
    const users = (await g.support.ok('{ users { id } }')).users;
    expect(users).toHaveLength(3);
    const refused = await g.support.request('mutation End($u: ID!) { revokeUserSessions(userId: $u) }', { u: g.employee.userId });
    expect(errorCode(refused)).toBe('FORBIDDEN');
    expect(refused.errors?.[0].message).toBe('Support access is read-only.');
    const denied = (await supportAccesses(g.tenantId)).find((r) => r.details.operation.name === 'End');
    expect(denied).toMatchObject({ outcome: 'denied' });
    expect((await signIn(vigil.client(), { tenantSlug: g.slug, email: g.employee.email })).data?.signIn).toBeTruthy(); // the employee's sessions live on

    const { viewer } = await authenticateSupport(vigil.services, g.opened.token);
    expect(viewer?.kind).toBe('support');
    const write = inTenantTransaction(vigil.services, { tenantId: g.tenantId, origin: { actorType: 'operator', actorId: olga.id, sessionId: null, ip: null, userAgent: null }, viewer }, (work) =>
      work.em.execute(`update app_user set display_name = 'pwned' where id = ?`, [g.employee.userId]),
    );
    await expect(write).rejects.toMatchObject({ code: '25006' });
  });

  test('the support token is nothing on /ops/graphql, and an operator\u2019s own token nothing on /graphql', async () => {
    const g = await granted(['JOURNAL']);
    const onOps = new GraphQLClient(vigil.url, '/ops/graphql');
    onOps.bearer = g.opened.token;
    expect((await onOps.ok('{ me { id } }')).me).toBeNull();
    const opsToken = (await new GraphQLClient(vigil.url, '/ops/graphql').ok('mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { token } }', {
      i: { email: pavel.email, password: pavel.password, totpCode: await nextOperatorCode(vigil, pavel) },
    })).operatorSignIn.token;
    const onTenant = vigil.client();
    onTenant.bearer = opsToken;
    expect((await onTenant.ok('{ viewer { user { id } } }')).viewer).toBeNull();
  });
});

describe('revocation and expiry', () => {
  test('revoked by an administrator: the next request is refused and the open socket closes within a second', async () => {
    const g = await granted(['JOURNAL']);
    const socket = liveClient(vigil.url, { token: g.opened.token });
    collect(socket, FEED);
    await waitFor(async () => (await supportAccesses(g.tenantId)).some((r) => r.details.operation.type === 'subscription'));
    const started = Date.now();
    await g.admin.client.ok('mutation($id: ID!) { revokeSupportAccess(id: $id) { revokedAt inForce } }', { id: g.grant.id });
    await waitFor(() => socket.closes.length > 0, 1_000);
    expect(socket.closes[0].code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(errorCode(await g.support.request('{ auditEvents(first: 1) { edges { cursor } } }'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await g.ops.request(OPEN, { g: g.grant.id }))).toBe('NOT_FOUND');
    expect((await auditRows(vigil, g.tenantId)).some((r) => r.action === 'support.revoked')).toBe(true);
    await socket.dispose();
  });

  test('at its end: requests are refused and the socket closes within a second', async () => {
    const g = await granted(['JOURNAL'], 1);
    const socket = liveClient(vigil.url, { token: g.opened.token });
    collect(socket, FEED);
    await waitFor(async () => (await supportAccesses(g.tenantId)).some((r) => r.details.operation.type === 'subscription'));
    vigil.clock.advance(3600);
    const started = Date.now();
    await waitFor(() => socket.closes.length > 0, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(errorCode(await g.support.request('{ auditEvents(first: 1) { edges { cursor } } }'))).toBe('UNAUTHENTICATED');
    await socket.dispose();
  });
});

describe('break-glass', () => {
  test('needs both operators, lasts an hour at most, is in both journals, and the owner is shown it at next sign-in', async () => {
    const c = await company();
    const REQUEST = 'mutation($t: ID!) { requestBreakGlass(tenantId: $t, justification: ACTIVE_SECURITY_INCIDENT, caseReference: "INC-9", reason: "Credential stuffing against this company") { id approvedAt expiresAt } }';
    const APPROVE = 'mutation($id: ID!) { approveBreakGlass(id: $id) { id approvedAt expiresAt } }';
    const first = await operatorConsole(olga);
    expect(errorCode(await first.request('mutation($t: ID!) { requestBreakGlass(tenantId: $t, justification: WHATEVER, caseReference: "x", reason: "because I want to") { id } }', { t: c.tenantId }))).toBe('BAD_USER_INPUT');
    const asked = (await first.ok(REQUEST, { t: c.tenantId })).requestBreakGlass;
    expect(asked.approvedAt).toBeNull();
    expect(errorCode(await first.request(OPEN, { g: asked.id }))).toBe('FAILED_PRECONDITION');
    expect(errorCode(await first.request(APPROVE, { id: asked.id }))).toBe('FAILED_PRECONDITION');
    const second = await operatorConsole(pavel);
    const opened = (await second.ok(APPROVE, { id: asked.id })).approveBreakGlass;
    expect(new Date(opened.expiresAt).getTime() - new Date(opened.approvedAt).getTime()).toBe(3600_000);
    const session = (await second.ok(OPEN, { g: asked.id })).openSupportSession;
    const support = vigil.client();
    support.bearer = session.token;
    expect((await support.ok('{ users { id } }')).users).toHaveLength(3);

    const tenantSteps = (await auditRows(vigil, c.tenantId)).filter((r) => r.action === 'support.break_glass');
    const platformSteps = (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((r) => r.action === 'support.break_glass' && r.target_id === asked.id);
    expect(tenantSteps.map((r) => [r.details.step, r.actor_id])).toEqual([['requested', olga.id], ['opened', pavel.id]]);
    expect(platformSteps.map((r) => r.details.step)).toEqual(['requested', 'opened']);
    expect(tenantSteps[0].details.justification).toBe('active_security_incident');
    for (const tenantId of [c.tenantId, PLATFORM_TENANT_ID]) {
      const report = await verifyChain(vigil.services.db.forTenant(tenantId), verifiedCheckpoints(vigil.config.checkpointsDir, vigil.services.keys.auditVerifyKey, tenantId));
      expect({ tenantId, ok: report.ok }).toEqual({ tenantId, ok: true });
    }

    const owner = bearerClient(vigil, (await signIn(vigil.client(), { tenantSlug: c.slug, email: c.email })).data!.signIn.token);
    const unseen = (await owner.ok('{ breakGlassUnseen { id justification caseReference } }')).breakGlassUnseen;
    expect(unseen).toEqual([{ id: asked.id, justification: 'active_security_incident', caseReference: 'INC-9' }]);
    expect((await c.admin.client.ok('{ breakGlassUnseen { id } }')).breakGlassUnseen).toEqual([]);
    await owner.ok('mutation($id: ID!) { acknowledgeBreakGlass(id: $id) }', { id: asked.id });
    await owner.ok('mutation($id: ID!) { acknowledgeBreakGlass(id: $id) }', { id: asked.id });
    expect((await owner.ok('{ breakGlassUnseen { id } }')).breakGlassUnseen).toEqual([]);
    expect((await auditRows(vigil, c.tenantId)).filter((r) => r.action === 'support.break_glass_acknowledged')).toHaveLength(1);
    // The session ends with the break-glass, never after it.
    expect(new Date(session.expiresAt).getTime()).toBe(new Date(opened.expiresAt).getTime());
    vigil.clock.advance(3600);
    expect(errorCode(await support.request('{ users { id } }'))).toBe('UNAUTHENTICATED');
  });
});

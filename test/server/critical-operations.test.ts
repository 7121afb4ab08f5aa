import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { verifyChain } from '../../server/src/audit/verify.ts';
import { CRITICAL_POLICY, intentHashOf, runDueCriticalOperations } from '../../server/src/critical-ops/critical-ops.ts';
import { PURGED_TABLES, type PurgeReceipt, receiptSignatureValid } from '../../server/src/critical-ops/purge.ts';
import { takeTransition } from '../../server/src/critical-ops/transitions.ts';
import { SYSTEM_ORIGIN } from '../../server/src/audit/journal.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { GraphQLClient, errorCode } from '../support/client.ts';
import { STRONG_PASSWORD, bearerClient, companyWithStaff, signIn } from '../support/factories.ts';
import { closeOf } from '../support/live.ts';
import { signedInOperator } from '../support/operator-console.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';
import WebSocket from 'ws';

let vigil: TestVigil;
let operator: CreatedOperator;
beforeAll(async () => {
  vigil = await startVigil();
  operator = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
});
afterAll(async () => vigil?.stop());

const OPS = 'id tenantId kind state intentHash params executesAt acceptBy legalHold';
const TENANT_OP = 'id kind state intentHash newOwnerId executesAt acceptBy closedAt';
const DELETE = `mutation($r: String!) { requestCompanyDeletion(reason: $r) { ${TENANT_OP} } }`;
const TRANSFER = `mutation($u: ID!, $r: String!) { requestOwnershipTransfer(newOwnerId: $u, reason: $r) { ${TENANT_OP} } }`;
const VERIFY = `mutation($id: ID!, $h: String!) { verifyCriticalOperation(id: $id, intentHash: $h, method: CALL_BACK, reference: "called +49 30 1234, 10:02") { ${OPS} } }`;
const APPROVE = `mutation($id: ID!, $h: String!) { approveCriticalOperation(id: $id, intentHash: $h) { ${OPS} } }`;
const STEP_UP = 'mutation($i: StepUpInput!) { stepUp(input: $i) { validUntil } }';

/** The operator, signed in with password and code a step after the last: a fresh proof for five minutes. */
const operatorConsole = () => signedInOperator(vigil, operator);

const company = () => companyWithStaff(vigil);

/** Requested, verified and approved: a deletion in its cooling-off. */
async function approvedDeletion() {
  const c = await company();
  const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
  const ops = await operatorConsole();
  await ops.ok(VERIFY, { id: requested.id, h: requested.intentHash });
  const approved = (await ops.ok(APPROVE, { id: requested.id, h: requested.intentHash })).approveCriticalOperation;
  return { ...c, requested, approved, ops };
}

const stateOf = async (client: GraphQLClient, id: string) =>
  ((await client.ok('{ criticalOperations { id state } }')).criticalOperations as Array<{ id: string; state: string }>).find((op) => op.id === id)?.state;

describe('requesting', () => {
  test('only the owner, with a fresh proof: without it STEP_UP_REQUIRED and nothing written, then the same request succeeds', async () => {
    const c = await company();
    vigil.clock.advance(301);
    const refused = await c.client.request(DELETE, { r: 'We are closing the business.' });
    expect(errorCode(refused)).toBe('STEP_UP_REQUIRED');
    expect(await asOwner(vigil, (q) => q('select 1 from critical_operation where tenant_id = $1', [c.tenantId]))).toHaveLength(0);
    await c.client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    expect(requested).toMatchObject({ kind: 'DELETE', state: 'REQUESTED' });
    expect(requested.intentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(errorCode(await c.admin.client.request(DELETE, { r: 'An administrator may not ask for it.' }))).toBe('FORBIDDEN');
    expect(errorCode(await c.client.request(DELETE, { r: 'A second one while the first is open.' }))).toBe('FAILED_PRECONDITION');
  });

  test('every owner and administrator sees it at once, in the journal as an alert and in the list; an employee does not', async () => {
    const c = await company();
    const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    expect(await stateOf(c.admin.client, requested.id)).toBe('REQUESTED');
    const seen = (await c.admin.client.ok('{ auditEvents(first: 5, filter: { actions: ["critical_operation.requested"] }) { edges { node { action details } } } }')).auditEvents.edges;
    expect(seen.map((e: { node: { action: string } }) => e.node.action)).toContain('critical_operation.requested');
    expect(errorCode(await c.employee.client.request('{ criticalOperations { id } }'))).toBe('FORBIDDEN');
  });
});

describe('the operator verifies out of band and approves the exact parameters', () => {
  test('approval before verification, a different hash, a second approval and an approval after expiry are FAILED_PRECONDITION', async () => {
    const c = await company();
    const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    const ops = await operatorConsole();
    const queue = (await ops.ok(`{ criticalOperations { ${OPS} reason } }`)).criticalOperations;
    expect(queue.find((op: { id: string }) => op.id === requested.id)).toMatchObject({ tenantId: c.tenantId, state: 'requested', intentHash: requested.intentHash });

    expect(errorCode(await ops.request(APPROVE, { id: requested.id, h: requested.intentHash }))).toBe('FAILED_PRECONDITION');
    const tampered = intentHashOf({ kind: 'tenant.transfer_ownership', tenantId: c.tenantId, operationId: requested.id, params: { newOwnerId: c.employee.userId }, requestedBy: c.userId, requestedAt: new Date() });
    expect(errorCode(await ops.request(VERIFY, { id: requested.id, h: tampered }))).toBe('FAILED_PRECONDITION');
    await ops.ok(VERIFY, { id: requested.id, h: requested.intentHash });
    const refusedApproval = await ops.request(APPROVE, { id: requested.id, h: tampered });
    expect(errorCode(refusedApproval)).toBe('FAILED_PRECONDITION');
    expect(refusedApproval.errors![0].message).toMatch(/intent hash/);
    const approved = (await ops.ok(APPROVE, { id: requested.id, h: requested.intentHash })).approveCriticalOperation;
    expect(approved.state).toBe('cooling_off');
    expect(Math.abs(new Date(approved.executesAt).getTime() - vigil.clock.now().getTime() - CRITICAL_POLICY.coolingOffSeconds * 1000)).toBeLessThan(1_000);
    expect(errorCode(await ops.request(APPROVE, { id: requested.id, h: requested.intentHash }))).toBe('FAILED_PRECONDITION');

    const late = await company();
    const old = (await late.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    vigil.clock.advance(CRITICAL_POLICY.expiresSeconds + 1);
    expect(errorCode(await (await operatorConsole()).request(VERIFY, { id: old.id, h: old.intentHash }))).toBe('FAILED_PRECONDITION');
    await runDueCriticalOperations(vigil.services);
    expect((await asOwner(vigil, (q) => q<{ state: string }>('select state from critical_operation where id = $1', [old.id])))[0].state).toBe('expired');
  });

  test('the requester, or anyone but an operator, cannot approve: the database itself refuses', async () => {
    const c = await company();
    const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    expect(errorCode(await c.client.request(`mutation { approveCriticalOperation(id: "${requested.id}", intentHash: "${requested.intentHash}") { id } }`))).toBe('BAD_USER_INPUT');
    for (const actor of [{ type: 'user' as const, id: c.userId }, { type: 'operator' as const, id: c.userId }, { type: 'system' as const, id: null }]) {
      const refused = inTenantTransaction(vigil.services, { tenantId: c.tenantId, origin: SYSTEM_ORIGIN, viewer: null }, (work) =>
        takeTransition(work.em, work.journal, {
          tenantId: c.tenantId, operationId: requested.id, transition: 'verify', actor, origin: SYSTEM_ORIGIN,
          input: { intentHash: requested.intentHash }, details: { kind: 'tenant.delete', intentHash: requested.intentHash }, now: vigil.clock.now(),
        }),
      );
      await expect(refused).rejects.toMatchObject({ extensions: { code: 'FAILED_PRECONDITION' } });
    }
  });

  test('approving needs the operator\u2019s own fresh proof; the same request then succeeds', async () => {
    const c = await company();
    const requested = (await c.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion;
    const ops = await operatorConsole();
    await ops.ok(VERIFY, { id: requested.id, h: requested.intentHash });
    vigil.clock.advance(301);
    expect(errorCode(await ops.request(APPROVE, { id: requested.id, h: requested.intentHash }))).toBe('STEP_UP_REQUIRED');
    vigil.clock.advance(30);
    const totpCode = await generate({ secret: operator.totp.secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });
    await ops.ok('mutation($i: OperatorProofInput!) { operatorStepUp(input: $i) { id } }', { i: { password: operator.password, totpCode } });
    expect((await ops.ok(APPROVE, { id: requested.id, h: requested.intentHash })).approveCriticalOperation.state).toBe('cooling_off');
  });
});

describe('deletion', () => {
  test('cancelled during the cooling-off, it never executes', async () => {
    const d = await approvedDeletion();
    const cancelled = (await d.admin.client.ok(`mutation($id: ID!) { cancelCriticalOperation(id: $id) { state closedAt } }`, { id: d.requested.id })).cancelCriticalOperation;
    expect(cancelled.state).toBe('CANCELLED');
    vigil.clock.advance(CRITICAL_POLICY.coolingOffSeconds + 60);
    await runDueCriticalOperations(vigil.services);
    const rows = await auditRows(vigil, d.tenantId);
    expect(rows.map((r) => r.action)).not.toContain('critical_operation.executed');
    expect((await asOwner(vigil, (q) => q('select disabled_at from tenant where id = $1', [d.tenantId])))[0].disabled_at).toBeNull();
  });

  test('nothing before its time; two executors racing execute it once; the company is then shut: sign-in, cookie, key and socket', async () => {
    const d = await approvedDeletion();
    vigil.clock.advance(CRITICAL_POLICY.coolingOffSeconds - 60);
    await runDueCriticalOperations(vigil.services);
    expect((await asOwner(vigil, (q) => q<{ state: string }>('select state from critical_operation where id = $1', [d.requested.id])))[0].state).toBe('cooling_off');

    // Fresh credentials of the company, alive when it is shut.
    const session = (await signIn(vigil.client(), { tenantSlug: d.slug, email: d.email })).data!.signIn.token as string;
    const cookieClient = vigil.client();
    await cookieClient.ok(`mutation($i: SignInInput!) { signIn(input: $i) { token } }`, { i: { tenantSlug: d.slug, email: d.email, password: STRONG_PASSWORD } });
    const owner = bearerClient(vigil, session);
    await owner.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    const key = (await owner.ok('mutation { createApiKey(input: { name: "sync", permissions: ["audit.read"] }) { secret } }')).createApiKey.secret as string;
    const ws = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: key } }));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { auditEvents { seq } }' } }));
    await waitFor(async () => (await auditRows(vigil, d.tenantId)).some((r) => r.action === 'audit.stream_opened'));
    const closing = closeOf(ws, 3_000);

    vigil.clock.advance(120);
    const started = Date.now();
    const ran = await Promise.all([runDueCriticalOperations(vigil.services), runDueCriticalOperations(vigil.services)]);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await closing).code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    const rows = await auditRows(vigil, d.tenantId);
    expect(rows.filter((r) => r.action === 'critical_operation.executed')).toHaveLength(1);

    expect((await owner.ok('{ viewer { user { id } } }')).viewer).toBeNull();
    expect((await cookieClient.ok('{ viewer { user { id } } }')).viewer).toBeNull();
    const withKey = vigil.client();
    withKey.bearer = key;
    expect(errorCode(await withKey.request('{ auditEvents(first: 1) { edges { node { seq } } } }'))).toBe('UNAUTHENTICATED');
    const again = await signIn(vigil.client(), { tenantSlug: d.slug, email: d.email });
    expect(errorCode(again)).toBe('FORBIDDEN');
    const ops = await operatorConsole();
    const summary = (await ops.ok('{ tenants { id state } }')).tenants.find((t: { id: string }) => t.id === d.tenantId);
    expect(summary.state).toBe('disabled');
  });
});

describe('purge, thirty days after the deletion', () => {
  const HOLD = `mutation($id: ID!, $on: Boolean!) { setLegalHold(id: $id, legalHold: $on) { legalHold } }`;

  async function executedDeletion() {
    const d = await approvedDeletion();
    await d.client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    await d.client.ok('mutation { createApiKey(input: { name: "sync", permissions: ["audit.read"] }) { secret } }');
    vigil.clock.advance(CRITICAL_POLICY.coolingOffSeconds + 60);
    await runDueCriticalOperations(vigil.services);
    expect(await operationState(d.requested.id)).toBe('executed');
    return d;
  }
  const operationState = async (id: string) => (await asOwner(vigil, (q) => q<{ state: string }>('select state from critical_operation where id = $1', [id])))[0].state;
  /** Every row of the company in every table that has a tenant_id, as a superuser counts them. */
  async function rowsOf(tenantId: string): Promise<Record<string, number>> {
    return asOwner(vigil, async (q) => {
      const tables = await q<{ table_name: string }>("select table_name from information_schema.columns where column_name = 'tenant_id' and table_schema = 'public' and table_name <> 'ops_tenant_summary'");
      const counts: Record<string, number> = {};
      for (const { table_name: table } of tables) counts[table] = Number((await q<{ n: string }>(`select count(*) as n from "${table}" where tenant_id = $1`, [tenantId]))[0].n);
      return counts;
    });
  }
  const receiptsOf = async (tenantId: string) =>
    (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((r) => r.action === 'critical_operation.purged' && r.details.tenantId === tenantId);

  test('every table of a company is purged, none before its time, by one of two racing executors, with a signed receipt; another company keeps all', async () => {
    const d = await executedDeletion();
    const bystander = await company();
    const bystanderBefore = await rowsOf(bystander.tenantId);
    const before = await rowsOf(d.tenantId);
    // The purge's list is every table that holds a company's rows, but the tombstone and the record of what was done.
    expect(Object.keys(before).filter((t) => t !== 'tenant' && t !== 'critical_operation').sort()).toEqual([...PURGED_TABLES].sort());
    expect(before.audit_event).toBeGreaterThan(5);
    expect(before.api_key).toBe(1);

    vigil.clock.advance(CRITICAL_POLICY.purgeAfterSeconds - 120);
    await runDueCriticalOperations(vigil.services); // the earlier tests' operations, whose time came first
    expect(await operationState(d.requested.id)).toBe('executed');
    expect(await rowsOf(d.tenantId)).toEqual(before);
    const [head] = (await auditRows(vigil, d.tenantId)).slice(-1);

    vigil.clock.advance(180);
    const ran = await Promise.all([runDueCriticalOperations(vigil.services), runDueCriticalOperations(vigil.services)]);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await operationState(d.requested.id)).toBe('purged');
    const after = await rowsOf(d.tenantId);
    expect(Object.entries(after).filter(([table, n]) => n > 0 && table !== 'tenant' && table !== 'critical_operation')).toEqual([]);
    const [tombstone] = await asOwner(vigil, (q) => q<{ name: string; slug: string }>('select name, slug from tenant where id = $1', [d.tenantId]));
    expect(tombstone).toEqual({ name: 'Purged company', slug: `purged-${d.tenantId}` });
    expect(await rowsOf(bystander.tenantId)).toEqual(bystanderBefore);

    const receipts = await receiptsOf(d.tenantId);
    expect(receipts).toHaveLength(1);
    const { receipt, signature } = receipts[0].details as { receipt: PurgeReceipt; signature: string };
    expect(receipt).toMatchObject({ tenantId: d.tenantId, operationId: d.requested.id, lastSeq: Number(head.seq), lastHash: head.hash });
    expect(receipt.counts).toEqual(Object.fromEntries(PURGED_TABLES.map((t) => [t, before[t]])));
    expect(receiptSignatureValid(receipt, signature, vigil.services.keys.auditVerifyKey)).toBe(true);
    expect(receiptSignatureValid({ ...receipt, counts: { ...receipt.counts, audit_event: receipt.counts.audit_event - 1 } }, signature, vigil.services.keys.auditVerifyKey)).toBe(false);
    const platform = await verifyChain(vigil.services.db.forTenant(PLATFORM_TENANT_ID), verifiedCheckpoints(vigil.config.checkpointsDir, vigil.services.keys.auditVerifyKey, PLATFORM_TENANT_ID));
    expect(platform.ok).toBe(true);
    const ops = await operatorConsole();
    expect((await ops.ok('{ criticalOperations { id state } }')).criticalOperations.find((o: { id: string }) => o.id === d.requested.id).state).toBe('purged');
    expect(await runDueCriticalOperations(vigil.services)).toBe(0);
  });

  test('a legal hold keeps the data past the date, even against a direct call; lifted, the purge goes on', async () => {
    const d = await executedDeletion();
    const ops = await operatorConsole();
    expect((await ops.ok(HOLD, { id: d.requested.id, on: true })).setLegalHold.legalHold).toBe(true);
    const before = await rowsOf(d.tenantId);
    vigil.clock.advance(CRITICAL_POLICY.purgeAfterSeconds + 60);
    await runDueCriticalOperations(vigil.services);
    expect(await operationState(d.requested.id)).toBe('executed');
    expect(await rowsOf(d.tenantId)).toEqual(before);
    const direct = asOwner(vigil, (q) => q(`select vigil_purge_tenant($1, $2, $3, '{}'::jsonb, '{}'::jsonb)`, [d.tenantId, d.requested.id, vigil.clock.now()]));
    await expect(direct).rejects.toThrow(/legal hold/);
    expect(await receiptsOf(d.tenantId)).toEqual([]);

    const lifting = await operatorConsole();
    expect((await lifting.ok(HOLD, { id: d.requested.id, on: false })).setLegalHold.legalHold).toBe(false);
    await runDueCriticalOperations(vigil.services);
    expect(await operationState(d.requested.id)).toBe('purged');
    expect((await rowsOf(d.tenantId)).audit_event).toBe(0);
  });

  test('a journal whose chain does not verify is not purged but held, in both journals; the journal refuses deletes of a company not being purged', async () => {
    const d = await executedDeletion();
    await expect(asOwner(vigil, (q) => q('delete from audit_event where tenant_id = $1', [d.tenantId]))).rejects.toThrow(/append-only/);
    await asOwner(vigil, async (q) => {
      await q('alter table audit_event disable trigger user');
      await q(`update audit_event set details = '{"rewritten": true}'::jsonb where tenant_id = $1 and seq = 2`, [d.tenantId]);
      await q('alter table audit_event enable trigger user');
    });
    const before = await rowsOf(d.tenantId);
    vigil.clock.advance(CRITICAL_POLICY.purgeAfterSeconds + 60);
    await runDueCriticalOperations(vigil.services);
    expect(await operationState(d.requested.id)).toBe('executed');
    const [{ legal_hold: held }] = await asOwner(vigil, (q) => q<{ legal_hold: boolean }>('select legal_hold from critical_operation where id = $1', [d.requested.id]));
    expect(held).toBe(true);
    const refusals = (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((r) => r.action === 'critical_operation.purge_refused' && r.target_id === d.requested.id);
    expect(refusals).toHaveLength(1);
    expect(refusals[0].details).toMatchObject({ tenantId: d.tenantId, firstBadSeq: 2 });
    expect((await auditRows(vigil, d.tenantId)).at(-1)!.action).toBe('critical_operation.purge_refused');
    expect((await rowsOf(d.tenantId)).audit_event).toBe(before.audit_event + 1);
    await runDueCriticalOperations(vigil.services);
    expect(await receiptsOf(d.tenantId)).toEqual([]);
  });
});

describe('ownership transfer', () => {
  async function approvedTransfer() {
    const c = await company();
    const requested = (await c.client.ok(TRANSFER, { u: c.employee.userId, r: 'Handing the company over to Eve.' })).requestOwnershipTransfer;
    expect(requested).toMatchObject({ kind: 'TRANSFER_OWNERSHIP', newOwnerId: c.employee.userId });
    const ops = await operatorConsole();
    await ops.ok(VERIFY, { id: requested.id, h: requested.intentHash });
    const approved = (await ops.ok(APPROVE, { id: requested.id, h: requested.intentHash })).approveCriticalOperation;
    expect(approved.state).toBe('approved');
    return { ...c, requested };
  }

  test('the new owner accepts with their own fresh proof; the roles swap, both sessions rotate, the old owner\u2019s keys lose what an administrator lacks', async () => {
    const t = await approvedTransfer();
    const key = (await t.client.ok('mutation { createApiKey(input: { name: "ops", permissions: ["tenant.settings", "audit.read"] }) { key { id } } }')).createApiKey.key.id;
    const offered = (await t.employee.client.ok('{ ownershipTransferOffered { id state } }')).ownershipTransferOffered;
    expect(offered).toEqual({ id: t.requested.id, state: 'APPROVED' });
    vigil.clock.advance(301);
    const ACCEPT = `mutation($id: ID!) { acceptOwnershipTransfer(id: $id) { state executedAt } }`;
    expect(errorCode(await t.employee.client.request(ACCEPT, { id: t.requested.id }))).toBe('STEP_UP_REQUIRED');
    await t.employee.client.ok(STEP_UP, { i: { password: STRONG_PASSWORD } });
    expect(errorCode(await t.client.request(ACCEPT, { id: t.requested.id }))).toBe('STEP_UP_REQUIRED');
    const done = (await t.employee.client.ok(ACCEPT, { id: t.requested.id })).acceptOwnershipTransfer;
    expect(done.state).toBe('EXECUTED');

    const roles = await asOwner(vigil, (q) => q<{ id: string; built_in: string }>('select u.id, r.built_in from app_user u join role r on r.id = u.role_id where u.tenant_id = $1', [t.tenantId]));
    expect(roles.find((r) => r.id === t.employee.userId)?.built_in).toBe('owner');
    expect(roles.find((r) => r.id === t.userId)?.built_in).toBe('administrator');
    const [kept] = await asOwner(vigil, (q) => q<{ permissions: string[] }>('select permissions from api_key where id = $1', [key]));
    expect(kept.permissions).toEqual(['audit.read']);
    const rotated = await t.employee.client.request('{ viewer { user { role { name } } } }');
    expect(rotated.headers.get('vigil-session-token')).toBeTruthy();
    expect(rotated.data!.viewer.user.role.name).toBe('Owner');
  });

  test('not accepted within 24 hours, it expires; someone else cannot accept it', async () => {
    const t = await approvedTransfer();
    expect(errorCode(await t.admin.client.request(`mutation($id: ID!) { acceptOwnershipTransfer(id: $id) { state } }`, { id: t.requested.id }))).toBe('FAILED_PRECONDITION');
    vigil.clock.advance(CRITICAL_POLICY.acceptSeconds + 1);
    await runDueCriticalOperations(vigil.services);
    expect((await asOwner(vigil, (q) => q<{ state: string }>('select state from critical_operation where id = $1', [t.requested.id])))[0].state).toBe('expired');
  });
});

describe('both journals', () => {
  test('every step is in the company\u2019s journal and the platform journal, with the intent hash, and both chains verify', async () => {
    const d = await approvedDeletion();
    const tenantSteps = (await auditRows(vigil, d.tenantId)).filter((r) => r.action.startsWith('critical_operation.'));
    const platformSteps = (await auditRows(vigil, PLATFORM_TENANT_ID)).filter((r) => r.action.startsWith('critical_operation.') && r.target_id === d.requested.id);
    expect(tenantSteps.map((r) => r.action)).toEqual(['critical_operation.requested', 'critical_operation.verified', 'critical_operation.approved']);
    expect(platformSteps.map((r) => r.action)).toEqual(tenantSteps.map((r) => r.action));
    for (const row of [...tenantSteps, ...platformSteps]) expect(row.details.intentHash).toBe(d.requested.intentHash);
    expect(platformSteps.every((r) => r.details.tenantId === d.tenantId)).toBe(true);
    expect(tenantSteps[1].actor_type).toBe('operator');
    const journal = (await d.ops.ok('{ platformJournal(first: 200) { action targetId } }')).platformJournal;
    expect(journal.filter((e: { targetId: string }) => e.targetId === d.requested.id)).toHaveLength(3);
    for (const tenantId of [d.tenantId, PLATFORM_TENANT_ID]) {
      const report = await verifyChain(vigil.services.db.forTenant(tenantId), verifiedCheckpoints(vigil.config.checkpointsDir, vigil.services.keys.auditVerifyKey, tenantId));
      expect({ tenantId, ok: report.ok }).toEqual({ tenantId, ok: true });
    }
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const SEARCH = `query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) { edges { cursor node { seq action outcome actorId targetId ip } } pageInfo { hasNextPage endCursor } }
}`;

async function ownerClient() {
  const owner = await signUpTenant(vigil.client());
  const client = vigil.client();
  client.bearer = owner.token;
  return { owner, client };
}

const seqsOf = (data: any): number[] => data.auditEvents.edges.map((e: any) => e.node.seq);

describe('searching the journal', () => {
  test('filters by action, actor, target, outcome, address and time', async () => {
    const { owner, client } = await ownerClient();
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'wrong password x' });
    const start = new Date(Date.now() - 60_000).toISOString();
    const byAction = await client.ok(SEARCH, { filter: { actions: ['session.sign_in_failed'] } });
    expect(byAction.auditEvents.edges.map((e: any) => e.node.action)).toEqual(['session.sign_in_failed']);
    const failures = await client.ok(SEARCH, { filter: { outcome: 'FAILURE' } });
    expect(failures.auditEvents.edges.every((e: any) => e.node.outcome === 'FAILURE')).toBe(true);
    const byActor = await client.ok(SEARCH, { filter: { actorId: owner.userId, actions: ['user.signed_up'] } });
    expect(byActor.auditEvents.edges).toHaveLength(1);
    const byTarget = await client.ok(SEARCH, { filter: { targetId: owner.sessionId } });
    expect(byTarget.auditEvents.edges.map((e: any) => e.node.action)).toEqual(['session.signed_in']);
    const byIp = await client.ok(SEARCH, { filter: { ip: '127.0.0.1', actions: ['session.signed_in'] } });
    expect(byIp.auditEvents.edges).toHaveLength(1);
    expect((await client.ok(SEARCH, { filter: { ip: '10.9.9.9' } })).auditEvents.edges).toEqual([]);
    expect((await client.ok(SEARCH, { filter: { until: start } })).auditEvents.edges).toEqual([]);
    expect((await client.ok(SEARCH, { filter: { since: start, actions: ['tenant.created'] } })).auditEvents.edges).toHaveLength(1);
    expect((await client.ok(SEARCH, { filter: { actorId: 'not-a-uuid' } })).auditEvents.edges).toEqual([]);
  });

  test('pages newest first with stable cursors, even while events keep arriving', async () => {
    const { owner, client } = await ownerClient();
    await writeEvents(vigil, owner.tenantId, 30);
    const filter = { actions: ['test.marker'] };
    const first = await client.ok(SEARCH, { first: 10, filter });
    expect(first.auditEvents.pageInfo.hasNextPage).toBe(true);
    await writeEvents(vigil, owner.tenantId, 5);
    const second = await client.ok(SEARCH, { first: 10, after: first.auditEvents.pageInfo.endCursor, filter });
    const third = await client.ok(SEARCH, { first: 10, after: second.auditEvents.pageInfo.endCursor, filter });
    const all = [...seqsOf(first), ...seqsOf(second), ...seqsOf(third)];
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(third.auditEvents.pageInfo.hasNextPage).toBe(false);
  });

  test('a full page of 100 events with every field fits the query limits', async () => {
    const { owner, client } = await ownerClient();
    await writeEvents(vigil, owner.tenantId, 100);
    const everything = `{ auditEvents(first: 100) { edges { cursor node { id seq occurredAt action outcome actorType actorId actor { id email displayName }
      targetType targetId ip userAgent sessionId details prevHash hash } } pageInfo { hasNextPage endCursor } } }`;
    expect((await client.ok(everything)).auditEvents.edges).toHaveLength(100);
  });

  test('a page is at most 100 events, and a forged cursor is bad input', async () => {
    const { client } = await ownerClient();
    expect(errorCode(await client.request(SEARCH, { first: 101 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await client.request(SEARCH, { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await client.request(SEARCH, { after: 'bm9wZQ' }))).toBe('BAD_USER_INPUT');
  });

  test('opening a search is itself journalled, once per search, not per page', async () => {
    const { owner, client } = await ownerClient();
    const first = await client.ok(SEARCH, { first: 1 });
    await client.ok(SEARCH, { first: 1, after: first.auditEvents.pageInfo.endCursor });
    expect((await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'audit.read')).toHaveLength(1);
  });
});

describe('exporting the journal', () => {
  const EXPORT = 'mutation($f: AuditExportFormat!, $filter: AuditEventFilter) { exportAuditEvents(format: $f, filter: $filter) { url format expiresAt } }';

  test('CSV and JSONL downloads stream the matching events, once, and are journalled', async () => {
    const { owner, client } = await ownerClient();
    await writeEvents(vigil, owner.tenantId, 1200);
    const jsonl = (await client.ok(EXPORT, { f: 'JSONL', filter: { actions: ['test.marker'] } })).exportAuditEvents;
    const response = await fetch(`${vigil.url}${jsonl.url}`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-audit-.*\.jsonl"$/);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1200);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    expect(lines[0]).toMatchObject({ action: 'test.marker', details: { i: 0 } });
    const again = await fetch(`${vigil.url}${jsonl.url}`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(again.status).toBe(404);

    const csv = (await client.ok(EXPORT, { f: 'CSV', filter: { actions: ['user.signed_up'] } })).exportAuditEvents;
    const body = await (await fetch(`${vigil.url}${csv.url}`, { headers: { authorization: `Bearer ${owner.token}` } })).text();
    const [header, row] = body.trim().split('\n');
    expect(header).toBe('seq,id,occurredAt,action,outcome,actorType,actorId,targetType,targetId,ip,userAgent,sessionId,details,prevHash,hash');
    expect(row).toContain(',user.signed_up,success,user,');
    const exported = (await auditRows(vigil, owner.tenantId)).filter((r) => r.action === 'audit.exported');
    expect(exported.map((r) => r.details.format)).toEqual(['jsonl', 'csv']);
  }, 60_000);

  test('only the user who prepared it can download it; a URL token is never accepted', async () => {
    const { owner, client } = await ownerClient();
    const other = await signUpTenant(vigil.client());
    const prepared = (await client.ok(EXPORT, { f: 'JSONL' })).exportAuditEvents;
    expect((await fetch(`${vigil.url}${prepared.url}`)).status).toBe(401);
    expect((await fetch(`${vigil.url}${prepared.url}`, { headers: { authorization: `Bearer ${other.token}` } })).status).toBe(404);
    expect((await fetch(`${vigil.url}${prepared.url}?token=${owner.token}`)).status).toBe(400);
    expect((await fetch(`${vigil.url}${prepared.url}`, { headers: { authorization: `Bearer ${owner.token}` } })).status).toBe(200);
  });
});

describe('statistics for the overview', () => {
  test('events per minute over the last hour and failed sign-ins per hour', async () => {
    const { owner, client } = await ownerClient();
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'wrong password x' });
    const stats = (await client.ok('{ auditStatistics { eventsPerMinute { start count } failedSignInsPerHour { start count } attention { failedSignIns lockouts tokenReuse newDevices revocations } } }')).auditStatistics;
    expect(stats.eventsPerMinute).toHaveLength(60);
    expect(stats.failedSignInsPerHour).toHaveLength(24);
    const total = stats.eventsPerMinute.reduce((sum: number, b: any) => sum + b.count, 0);
    expect(total).toBe((await auditRows(vigil, owner.tenantId)).length - 0);
    expect(stats.failedSignInsPerHour.at(-1).count).toBe(1);
    expect(stats.attention).toMatchObject({ failedSignIns: 1, lockouts: 0, tokenReuse: 0 });
  });
});

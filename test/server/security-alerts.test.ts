import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sweepRecentEvents } from '../../server/src/alerts/inspector.ts';
import { ALERT_RULES } from '../../server/src/alerts/rules.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { errorCode } from '../support/client.ts';
import { VIEWER_ID, bearerClient, inviteEmployee, signIn, signUpTenant } from '../support/factories.ts';
import { testAction, writeEvents } from '../support/journal.ts';
import { auditRows, tamperWithJournal } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const CREDENTIAL_STUFFING = { accounts: ALERT_RULES.credential_stuffing.threshold };

/**
 * Detectors on the journal (issue 17): 50 wrong passwords over 25 accounts from one address raise exactly
 * one credential-stuffing alert, within a second, with its evidence, whichever of two instances took the
 * attempts; and each other rule raises its alert once per subject and window, with the company's thresholds.
 */
let first: TestVigil;
let second: TestVigil;

beforeAll(async () => {
  first = await startVigil({ env: { TRUSTED_PROXIES: 'loopback' } });
  second = await startVigil({ shareWith: first, clock: first.clock, env: { TRUSTED_PROXIES: 'loopback' } });
}, 60_000);
afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

/** A wrong password for `email` (from `ip`, through the trusted proxy), waiting out the progressive delay (a stuffing tool would). */
async function wrongPassword(vigil: TestVigil, slug: string, email: string, ip = '127.0.0.1'): Promise<void> {
  for (;;) {
    const client = vigil.client();
    if (ip !== '127.0.0.1') client.extraHeaders['x-forwarded-for'] = ip;
    const result = await signIn(client, { tenantSlug: slug, email, password: 'Summer2026!' });
    if (errorCode(result) !== 'RATE_LIMITED') return void expect(errorCode(result)).toBe('INVALID_CREDENTIALS');
    first.clock.advance(11);
  }
}

/** Every detection the two instances started has finished. */
const settled = () => Promise.all([first, second].map((vigil) => vigil.services.alerts.idle()));
const alerts = async (tenantId: string, rule?: string) => {
  await settled();
  return (await auditRows(first, tenantId)).filter((row) => row.action === 'security.alert' && (!rule || row.details.rule === rule));
};

describe('credential stuffing', () => {
  test('50 wrong passwords over 25 accounts from one address, split over two instances: one alert, raised when the threshold is crossed', async () => {
    const company = await signUpTenant(first.client());
    const emails = Array.from({ length: 25 }, (_, i) => `victim-${i}@acme.test`);
    for (const [i, email] of emails.entries()) {
      await wrongPassword(i % 2 ? second : first, company.slug, email);
      // Crossing the threshold raises it there and then (within a second), not at a later tick.
      if (i + 1 === CREDENTIAL_STUFFING.accounts) await expect.poll(() => raisedNow(company.tenantId, 'credential_stuffing'), { timeout: 1000, interval: 50 }).toBe(1);
      expect(await alerts(company.tenantId, 'credential_stuffing')).toHaveLength(i + 1 >= CREDENTIAL_STUFFING.accounts ? 1 : 0);
    }
    for (const [i, email] of emails.entries()) await wrongPassword(i % 2 ? first : second, company.slug, email);
    const raised = await alerts(company.tenantId, 'credential_stuffing');
    expect(raised).toHaveLength(1);
    const failures = (await auditRows(first, company.tenantId)).filter((row) => row.action === 'session.sign_in_failed');
    expect(failures).toHaveLength(50);
    expect(raised[0]).toMatchObject({ actor_type: 'system', details: { rule: 'credential_stuffing', severity: 'high', ip: '127.0.0.1', accounts: CREDENTIAL_STUFFING.accounts } });
    const evidence = raised[0].details.evidenceSeqs as number[];
    expect(evidence).toHaveLength(CREDENTIAL_STUFFING.accounts);
    expect(evidence.every((seq) => failures.some((row) => Number(row.seq) === seq))).toBe(true);
  }, 120_000);

  test('the same failures over fewer accounts than the threshold raise nothing', async () => {
    const company = await signUpTenant(first.client());
    for (let i = 0; i < 30; i++) await wrongPassword(first, company.slug, `typo-${i % (CREDENTIAL_STUFFING.accounts - 1)}@acme.test`);
    expect(await alerts(company.tenantId, 'credential_stuffing')).toEqual([]);
  }, 120_000);
});

/** What the journal holds right now, without waiting for detections: for the one-second promise. */
async function raisedNow(tenantId: string, rule: string): Promise<number> {
  return (await auditRows(first, tenantId)).filter((row) => row.action === 'security.alert' && row.details.rule === rule).length;
}

describe('the other rules', () => {
  test('password spraying: one account failing from ten addresses raises one alert naming the account', async () => {
    const company = await signUpTenant(first.client());
    for (let i = 0; i < 12; i++) await wrongPassword(i % 2 ? second : first, company.slug, company.email, `203.0.113.${i + 1}`);
    const raised = await alerts(company.tenantId, 'password_spraying');
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ severity: 'high', email: company.email, addresses: ALERT_RULES.password_spraying.threshold, threshold: 10 });
    expect(raised[0].details.evidenceSeqs).toHaveLength(ALERT_RULES.password_spraying.threshold);
    // Ten addresses, one account each: no stuffing.
    expect(await alerts(company.tenantId, 'credential_stuffing')).toEqual([]);
  }, 120_000);

  test('token reuse raises a high alert at once, naming the session', async () => {
    const owner = await signUpTenant(first.client());
    const user = bearerClient(first, owner.token);
    first.clock.advance(301);
    await user.ok(VIEWER_ID);
    first.clock.advance(31);
    expect((await bearerClient(second, owner.token).ok(VIEWER_ID)).viewer).toBeNull();
    const raised = await alerts(owner.tenantId, 'token_reuse');
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ severity: 'high', sessionId: owner.sessionId });
    const reuse = (await auditRows(first, owner.tenantId)).find((row) => row.action === 'session.token_reuse_detected')!;
    expect(raised[0].details.evidenceSeqs).toEqual([Number(reuse.seq)]);
  });

  test('an event whose detection was lost (its instance died after the commit) is inspected again by the sweep, once', async () => {
    const owner = await signUpTenant(first.client());
    const deaf = { ...first.services, alerts: { inspect: () => {}, idle: async () => {} } };
    const sessionId = crypto.randomUUID();
    const origin = { actorType: 'user' as const, actorId: owner.userId, sessionId, ip: '203.0.113.77', userAgent: null };
    await inTenantTransaction(deaf, { tenantId: owner.tenantId, origin, viewer: null }, ({ journal }) =>
      journal.record({ action: 'session.token_reuse_detected', outcome: 'denied', target: { type: 'session', id: sessionId } }),
    );
    expect(await alerts(owner.tenantId, 'token_reuse')).toEqual([]);
    first.clock.advance(2);
    expect(await sweepRecentEvents(second.services, 120, 1)).toBeGreaterThan(0);
    first.clock.advance(2);
    await sweepRecentEvents(first.services, 120, 1);
    const raised = await alerts(owner.tenantId, 'token_reuse');
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ sessionId });
  });

  test('an API key used from a second network raises one alert per network; its first network and a second address in it do not', async () => {
    const owner = await signUpTenant(first.client());
    const { secret } = (await bearerClient(first, owner.token).ok('mutation { createApiKey(input: { name: "crm-sync", permissions: ["audit.read"] }) { secret } }')).createApiKey;
    const fromAddress = async (vigil: TestVigil, ip: string) => {
      const client = bearerClient(vigil, secret);
      client.extraHeaders['x-forwarded-for'] = ip;
      expect((await client.ok('{ viewer { user { id } } }')).viewer.user.id).toBe(owner.userId);
    };
    await fromAddress(first, '198.51.100.10');
    await fromAddress(second, '198.51.100.77');
    expect(await alerts(owner.tenantId, 'api_key_new_network')).toEqual([]);
    await fromAddress(second, '192.0.2.5');
    await fromAddress(first, '192.0.2.9');
    await fromAddress(first, '2001:db8:aa::1');
    const raised = await alerts(owner.tenantId, 'api_key_new_network');
    expect(raised.map((row) => row.details.network)).toEqual(['192.0.2.0/24', '2001:db8:aa::/48']);
    const journalled = (await auditRows(first, owner.tenantId)).filter((row) => row.action === 'api_key.new_network');
    expect(journalled.map((row) => [row.details.network, row.details.first])).toEqual([['198.51.100.0/24', true], ['192.0.2.0/24', false], ['2001:db8:aa::/48', false]]);
    expect(JSON.stringify(journalled)).not.toContain(secret);
  });

  test('a mass export: the fifth download within the hour raises one alert for the user', async () => {
    const owner = await signUpTenant(first.client());
    const client = bearerClient(first, owner.token);
    for (let i = 0; i < 6; i++) {
      const { url } = (await client.ok('mutation { exportAuditEvents(format: JSONL) { url } }')).exportAuditEvents;
      expect((await fetch(`${first.url}${url}`, { headers: { authorization: `Bearer ${client.bearer}` } })).status).toBe(200);
      expect(await alerts(owner.tenantId, 'mass_export')).toHaveLength(i + 1 >= ALERT_RULES.mass_export.threshold ? 1 : 0);
    }
    expect((await alerts(owner.tenantId, 'mass_export'))[0].details).toMatchObject({ severity: 'medium', actorId: owner.userId, exports: 5 });
  });

  test('a role given users.manage, and a user moved to such a role, each raise an alert; a harmless role does not', async () => {
    const owner = await signUpTenant(first.client());
    const client = bearerClient(first, owner.token);
    await client.ok('mutation { createRole(input: { name: "Readers", permissions: ["audit.read"] }) { id } }');
    expect(await alerts(owner.tenantId, 'privileged_role_granted')).toEqual([]);
    const { id } = (await client.ok('mutation { createRole(input: { name: "Deputies", permissions: ["users.manage"] }) { id } }')).createRole;
    const employee = await inviteEmployee(client, 'Employee');
    await client.ok('mutation($r: ID!, $u: ID!) { setUserRole(roleId: $r, userId: $u) { id } }', { r: id, u: employee.userId });
    const raised = await alerts(owner.tenantId, 'privileged_role_granted');
    expect(raised.map((row) => row.details)).toEqual([
      expect.objectContaining({ severity: 'medium', targetType: 'role', targetId: id, permissions: ['users.manage'], byActorId: owner.userId }),
      expect.objectContaining({ severity: 'medium', targetType: 'user', targetId: employee.userId, permissions: ['users.manage'], role: 'Deputies' }),
    ]);
  });

  test('support access raises one alert per grant, however many reads it makes', async () => {
    const { tenantId } = await signUpTenant(first.client());
    const read = (grantId: string) =>
      inTenantTransaction(first.services, { tenantId, origin: { actorType: 'operator', actorId: '00000000-0000-4000-8000-000000000001', sessionId: null, ip: null, userAgent: null }, viewer: null }, ({ journal }) =>
        journal.record({ action: 'support.access', target: { type: 'support_grant', id: grantId }, details: { grantId, operatorId: '00000000-0000-4000-8000-000000000001', caseReference: 'CASE-1' } }),
      );
    for (const grantId of ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002']) await read(grantId);
    const raised = await alerts(tenantId, 'support_access_used');
    expect(raised.map((row) => row.details.grantId)).toEqual(['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002']);
  });

  test('a chain that does not verify raises a critical alert', async () => {
    const owner = await signUpTenant(first.client());
    await writeEvents(first, owner.tenantId, 3, 'test.chain');
    await tamperWithJournal(first, `update audit_event set details = '{"i": 99}' where tenant_id = $1 and action = $2 and details->>'i' = '1'`, [owner.tenantId, testAction('test.chain')]);
    const report = (await bearerClient(first, owner.token).ok('{ verifyAuditChain { ok firstBadSeq } }')).verifyAuditChain;
    expect(report.ok).toBe(false);
    const raised = await alerts(owner.tenantId, 'chain_verification_failed');
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ severity: 'critical', firstBadSeq: report.firstBadSeq });
  });

  test("the owner's thresholds apply on every instance, off turns a rule off, and each change is journalled; bad values are refused", async () => {
    const owner = await signUpTenant(first.client());
    const client = bearerClient(first, owner.token);
    const update = 'mutation($i: UpdateAlertRuleInput!) { updateAlertRule(input: $i) { rule enabled threshold windowSeconds } }';
    expect((await client.ok(update, { i: { rule: 'PASSWORD_SPRAYING', threshold: 3 } })).updateAlertRule).toEqual({ rule: 'PASSWORD_SPRAYING', enabled: true, threshold: 3, windowSeconds: 600 });
    for (let i = 0; i < 3; i++) await wrongPassword(second, owner.slug, owner.email, `198.18.0.${i + 1}`);
    expect(await alerts(owner.tenantId, 'password_spraying')).toHaveLength(1);
    await client.ok(update, { i: { rule: 'MASS_EXPORT', enabled: false } });
    const rules = (await client.ok('{ alertRules { rule enabled threshold thresholdMin thresholdMax } }')).alertRules as Array<{ rule: string; enabled: boolean }>;
    expect(rules.find((r) => r.rule === 'MASS_EXPORT')).toMatchObject({ enabled: false });
    expect(rules.map((r) => r.rule)).toEqual(Object.keys(ALERT_RULES).map((rule) => rule.toUpperCase()));
    const changes = (await auditRows(first, owner.tenantId)).filter((row) => row.action === 'tenant.alert_rule_updated');
    expect(changes.map((row) => row.details)).toEqual([
      { rule: 'password_spraying', before: { enabled: true, threshold: 10, windowSeconds: 600 }, after: { enabled: true, threshold: 3, windowSeconds: 600 } },
      { rule: 'mass_export', before: { enabled: true, threshold: 5, windowSeconds: 3600 }, after: { enabled: false, threshold: 5, windowSeconds: 3600 } },
    ]);
    // A rule whose default window is beyond a week (one alert per support grant) is still turned off, and keeps its own bounds.
    expect((await client.ok(update, { i: { rule: 'SUPPORT_ACCESS_USED', enabled: false } })).updateAlertRule).toMatchObject({ enabled: false, windowSeconds: 30 * 86_400 });
    const tooShort = await client.request(update, { i: { rule: 'SUPPORT_ACCESS_USED', windowSeconds: 3600 } });
    expect(tooShort.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'windowSeconds', message: 'Between 1 day and 90 days.' }] } });
    for (const [input, field] of [[{ rule: 'TOKEN_REUSE', threshold: 5 }, 'threshold'], [{ rule: 'MASS_EXPORT', windowSeconds: 5 }, 'windowSeconds'], [{ rule: 'CREDENTIAL_STUFFING', threshold: 1 }, 'threshold']] as const) {
      const answer = await client.request(update, { i: input });
      expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field })] } });
    }
  }, 60_000);
});

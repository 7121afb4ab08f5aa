import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { recordPlatformEvent } from '../../server/src/backups/take-backup.ts';
import { writeEvents } from '../support/journal.ts';
import { tamperWithJournal } from '../support/owner-sql.ts';
import { bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * /metrics for the operator (issue 17, first part): Prometheus' format, behind METRICS_TOKEN on the main
 * listener or on METRICS_PORT's own, and never a label that names a company, a user or an address.
 */
const TOKEN = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(8);
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof signUpTenant>>;

beforeAll(async () => {
  vigil = await startVigil({ env: { METRICS_TOKEN: TOKEN } });
  company = await signUpTenant(vigil.client());
}, 60_000);
afterAll(async () => vigil?.stop());

const scrape = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
/** One sample's value, or 0 when the series is absent. */
function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics', () => {
  test('without the bearer token, or with another, 401 and nothing of the figures', async () => {
    for (const token of [undefined, 'wrong', `${TOKEN}x`]) {
      const answer = await scrape(`${vigil.url}/metrics`, token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await answer.text();
      expect(body).not.toContain('vigil_');
      expect(JSON.parse(body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  test('sign-ins by outcome, operations by root field and outcome, journal appends and process figures', async () => {
    const before = await (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    await signIn(vigil.client(), { tenantSlug: company.slug, email: company.email, password: 'not the password at all' });
    await signIn(vigil.client(), { tenantSlug: company.slug, email: company.email });
    await bearerClient(vigil, company.token).ok('{ viewer { user { id } } }');
    const answer = await scrape(`${vigil.url}/metrics`, TOKEN);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await answer.text();
    const grew = (series: string) => sample(body, series) - sample(before, series);
    expect(grew('vigil_sign_ins_total{outcome="failure"}')).toBe(1);
    expect(grew('vigil_sign_ins_total{outcome="success"}')).toBe(1);
    expect(grew('vigil_graphql_operations_total{api="graphql",type="mutation",field="signIn",outcome="ok"}')).toBe(1);
    expect(grew('vigil_graphql_operations_total{api="graphql",type="mutation",field="signIn",outcome="error"}')).toBe(1);
    expect(grew('vigil_graphql_operations_total{api="graphql",type="query",field="viewer",outcome="ok"}')).toBe(1);
    expect(grew('vigil_graphql_operation_duration_seconds_count{api="graphql",type="query",field="viewer"}')).toBe(1);
    expect(grew('vigil_audit_events_total{journal="company"}')).toBeGreaterThanOrEqual(2);
    expect(body).toMatch(/^vigil_live_subscribers 0$/m);
    // The failure's append (the success opens its session and journals in one statement of its own).
    expect(grew('vigil_journal_append_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(body).toMatch(/^vigil_live_deliveries_total \d+$/m);
    for (const name of ['vigil_webhook_deliveries_total', 'vigil_webhook_companies_due']) expect(body).toContain(`# TYPE ${name} `);
    expect(body).toMatch(/^process_cpu_seconds_total /m);
    // No label names a company, a user, a session or an address.
    for (const secret of [company.tenantId, company.slug, company.email, company.userId, company.sessionId, '127.0.0.1']) expect(body).not.toContain(secret);
  });

  test('backups and hashing: no copy yet reads stale with an unknown age, never a 0; a drill shows its outcome and its time', async () => {
    const before = await (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    expect(before).toMatch(/^vigil_backup_stale 1$/m);
    expect(before).toMatch(/^vigil_backup_age_seconds nan$/im);
    expect(before).toMatch(/^vigil_backup_drill_passed nan$/im);
    expect(before).toMatch(/^vigil_password_hashes_waiting 0$/m);
    await recordPlatformEvent(vigil.services, { action: 'backup.drill_failed', outcome: 'failure', details: { backupId: null, mode: 'logical', problems: ['no backup to restore yet'], durationMs: 1500 } });
    const after = await (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    expect(after).toMatch(/^vigil_backup_drill_passed 0$/m);
    expect(after).toMatch(/^vigil_backup_drill_duration_seconds 1\.5$/m);
    expect(after).not.toContain('no backup to restore yet');
  });

  test('checkpoints signed and when, and chain verifications by outcome: a tampered journal counts a failure', async () => {
    const metricsNow = async () => (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    const before = await metricsNow();
    await writeEvents(vigil, company.tenantId, 3);
    const ran = vigil.clock.now().getTime() / 1000;
    expect(await writeCheckpoints(vigil.services, 60)).toBeGreaterThan(0);
    const done = vigil.clock.now().getTime() / 1000;
    const client = bearerClient(vigil, company.token);
    expect((await client.ok('{ verifyAuditChain { ok } }')).verifyAuditChain.ok).toBe(true);
    await tamperWithJournal(vigil, `update audit_event set details = '{"edited": true}' where tenant_id = $1 and seq = 2`, [company.tenantId]);
    expect((await client.ok('{ verifyAuditChain { ok } }')).verifyAuditChain.ok).toBe(false);
    const after = await metricsNow();
    const grew = (series: string) => sample(after, series) - sample(before, series);
    expect(grew('vigil_checkpoints_signed_total')).toBeGreaterThan(0);
    expect(sample(after, 'vigil_checkpoint_job_last_run_timestamp_seconds')).toBeGreaterThanOrEqual(ran);
    expect(sample(after, 'vigil_checkpoint_job_last_run_timestamp_seconds')).toBeLessThanOrEqual(done);
    expect(grew('vigil_chain_verifications_total{where="api",outcome="success"}')).toBe(1);
    expect(grew('vigil_chain_verifications_total{where="api",outcome="failure"}')).toBe(1);
  });

  test('API-key authentications by outcome: accepted, unknown, revoked', async () => {
    const before = await (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    const owner = bearerClient(vigil, company.token);
    const created = (await owner.ok('mutation { createApiKey(input: { name: "sync", permissions: ["audit.read"] }) { secret key { id } } }')).createApiKey;
    await bearerClient(vigil, created.secret).ok('{ auditStatistics { attention { failedSignIns } } }');
    await bearerClient(vigil, `${created.secret.slice(0, -4)}AAAA`).request('{ viewer { user { id } } }');
    await owner.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: created.key.id });
    await bearerClient(vigil, created.secret).request('{ viewer { user { id } } }');
    const after = await (await scrape(`${vigil.url}/metrics`, TOKEN)).text();
    const grew = (series: string) => sample(after, series) - sample(before, series);
    expect(grew('vigil_api_key_authentications_total{outcome="success"}')).toBe(1);
    expect(grew('vigil_api_key_authentications_total{outcome="unknown"}')).toBe(1);
    expect(grew('vigil_api_key_authentications_total{outcome="revoked"}')).toBe(1);
    expect(grew('vigil_api_key_revoked_used_total')).toBe(1);
    expect(after).not.toContain(created.key.id);
  });

  test('without METRICS_PORT or METRICS_TOKEN, /metrics is not served at all', async () => {
    const bare = await startVigil();
    try {
      const answer = await scrape(`${bare.url}/metrics`);
      expect(answer.status).toBe(404);
      expect(await answer.text()).toContain('METRICS_TOKEN or on METRICS_PORT');
    } finally {
      await bare.stop();
    }
  });

  test('with METRICS_PORT, the figures are on that listener alone', async () => {
    const apart = await startVigil({ env: { METRICS_PORT: '0' } });
    try {
      expect(apart.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(apart.metricsUrl).not.toContain(`:${new URL(apart.url).port}/`);
      expect((await scrape(`${apart.url}/metrics`)).status).toBe(404);
      const answer = await scrape(apart.metricsUrl!);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('vigil_graphql_operations_total');
      expect((await scrape(apart.metricsUrl!.replace('/metrics', '/graphql'))).status).toBe(404);
    } finally {
      await apart.stop();
    }
  });
});

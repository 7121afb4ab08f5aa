import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CREDENTIAL_STUFFING } from '../../server/src/alerts/credential-stuffing.ts';
import { errorCode } from '../support/client.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Detectors on the journal (issue 17): 50 wrong passwords over 25 accounts from one address raise exactly
 * one credential-stuffing alert, at once, with its evidence, whichever of two instances took the attempts.
 */
let first: TestVigil;
let second: TestVigil;

beforeAll(async () => {
  first = await startVigil();
  second = await startVigil({ shareWith: first, clock: first.clock });
}, 60_000);
afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

/** A wrong password for `email`, waiting out the address's progressive delay (a stuffing tool would). */
async function wrongPassword(vigil: TestVigil, slug: string, email: string): Promise<void> {
  for (;;) {
    const result = await signIn(vigil.client(), { tenantSlug: slug, email, password: 'Summer2026!' });
    if (errorCode(result) !== 'RATE_LIMITED') return void expect(errorCode(result)).toBe('INVALID_CREDENTIALS');
    first.clock.advance(11);
  }
}

const alerts = async (tenantId: string) => (await auditRows(first, tenantId)).filter((row) => row.action === 'security.alert');

describe('credential stuffing', () => {
  test('50 wrong passwords over 25 accounts from one address, split over two instances: one alert, raised when the threshold is crossed', async () => {
    const company = await signUpTenant(first.client());
    const emails = Array.from({ length: 25 }, (_, i) => `victim-${i}@acme.test`);
    for (const [i, email] of emails.entries()) {
      await wrongPassword(i % 2 ? second : first, company.slug, email);
      // Crossing the threshold raises it there and then, not at a later tick.
      expect(await alerts(company.tenantId)).toHaveLength(i + 1 >= CREDENTIAL_STUFFING.accounts ? 1 : 0);
    }
    for (const [i, email] of emails.entries()) await wrongPassword(i % 2 ? first : second, company.slug, email);
    const raised = await alerts(company.tenantId);
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
    expect(await alerts(company.tenantId)).toEqual([]);
  }, 120_000);
});

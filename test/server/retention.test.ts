import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { readCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { applyJournalRetention } from '../../server/src/audit/retention.ts';
import { bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { asOwner, auditRows, tamperWithJournal } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Journal retention (issue 17): an owner keeps the journal 1 to 10 years; older events are removed only up to
 * a signed checkpoint, which becomes the chain's anchor; the removal is journalled; verification (the server's,
 * the command line's, the customer's own) goes on from the anchor, and still finds a tamper after it.
 */
const RETENTION = 'mutation($y: Int) { updateJournalRetention(years: $y) { journalRetentionYears journalStartsAfterSeq } }';
const VERIFY = '{ verifyAuditChain { ok checkedFromSeq firstBadSeq problem } }';
const DAY = 86_400;
let vigil: TestVigil;
const work = mkdtempSync(join(tmpdir(), 'vigil-retention-'));

beforeAll(async () => {
  vigil = await startVigil();
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The jobs hold a lease for a second: each run here starts past the last one's. */
async function checkpointNow(): Promise<void> {
  vigil.clock.advance(2);
  await writeCheckpoints(vigil.services, 1);
}
async function retainNow(): Promise<void> {
  vigil.clock.advance(2);
  await applyJournalRetention(vigil.services, 1);
}

/** A company with a year's retention, a journal signed at two points more than a year ago, and newer events after. */
async function companyPastItsRetention() {
  const owner = await signUpTenant(vigil.client());
  expect((await bearerClient(vigil, owner.token).ok(RETENTION, { y: 1 })).updateJournalRetention).toEqual({ journalRetentionYears: 1, journalStartsAfterSeq: 0 });
  await writeEvents(vigil, owner.tenantId, 3, 'test.old');
  await checkpointNow();
  await writeEvents(vigil, owner.tenantId, 2, 'test.old');
  await checkpointNow();
  const anchor = readCheckpoints(vigil.config.checkpointsDir, owner.tenantId).at(-1)!;
  vigil.clock.advance(400 * DAY);
  await writeEvents(vigil, owner.tenantId, 2, 'test.new');
  await checkpointNow();
  const fresh = (await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email })).data!.signIn.token as string;
  return { ...owner, client: bearerClient(vigil, fresh), anchor };
}

describe('journal retention', () => {
  test('the owner sets it between 1 and 10 years, or forever, and each change is journalled', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    for (const years of [0, 11]) expect((await client.request(RETENTION, { y: years })).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    await client.ok(RETENTION, { y: 7 });
    await client.ok(RETENTION, { y: null });
    const changes = (await auditRows(vigil, owner.tenantId)).filter((row) => row.action === 'tenant.journal_retention_updated');
    expect(changes.map((row) => row.details)).toEqual([{ before: { years: null }, after: { years: 7 } }, { before: { years: 7 }, after: { years: null } }]);
  });

  test('removes the events older than it only up to the latest signed checkpoint that old, which becomes the anchor; the removal is journalled', async () => {
    const company = await companyPastItsRetention();
    const before = await auditRows(vigil, company.tenantId);
    await retainNow();
    const after = await auditRows(vigil, company.tenantId);
    expect(Math.min(...after.map((row) => Number(row.seq)))).toBe(company.anchor.seq + 1);
    expect(after.length).toBe(before.length - company.anchor.seq + 1);
    expect(after.at(-1)).toMatchObject({ action: 'audit.retention_applied', actor_type: 'system', details: { retentionYears: 1, removedThroughSeq: company.anchor.seq, removed: company.anchor.seq, anchorHash: company.anchor.hash } });
    expect(after.filter((row) => row.action === 'test.new')).toHaveLength(2);
    expect((await company.client.ok('{ viewer { tenant { journalStartsAfterSeq } } }')).viewer.tenant.journalStartsAfterSeq).toBe(company.anchor.seq);
    // Nothing younger than the retention was due: a second pass removes nothing.
    await retainNow();
    expect(await auditRows(vigil, company.tenantId)).toHaveLength(after.length);
  });

  test('verification goes on from the anchor: intact passes, a tamper after it is named, an anchor no checkpoint signed is refused', async () => {
    const company = await companyPastItsRetention();
    await retainNow();
    expect((await company.client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: true, checkedFromSeq: company.anchor.seq + 1 });
    const target = company.anchor.seq + 2;
    await tamperWithJournal(vigil, `update audit_event set details = '{"i": 42}' where tenant_id = $1 and seq = $2`, [company.tenantId, target]);
    expect((await company.client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: target });
    const other = await companyPastItsRetention();
    await retainNow();
    await asOwner(vigil, (q) => q('update tenant set journal_anchor_seq = journal_anchor_seq + 1 where id = $1', [other.tenantId]));
    expect((await other.client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, problem: expect.stringContaining('no signed checkpoint names that anchor') });
  });

  test('the events after the anchor stay append-only, for the owner too', async () => {
    const company = await companyPastItsRetention();
    await retainNow();
    const attempt = asOwner(vigil, (q) => q('delete from audit_event where tenant_id = $1 and seq = $2', [company.tenantId, company.anchor.seq + 1]));
    await expect(attempt).rejects.toThrow(/append-only/);
    const app = asOwner(vigil, (q) => q('select vigil_apply_retention($1, $2, $3)', [company.tenantId, company.anchor.seq + 1, 'f'.repeat(64)]));
    await expect(app).rejects.toThrow(/not the journal's event/);
  });

  test("the customer's own verifier checks an evidence bundle from the anchor, against the checkpoint that made it", async () => {
    const company = await companyPastItsRetention();
    await retainNow();
    const { url } = (await company.client.ok('mutation { exportAuditEvidence { url } }')).exportAuditEvidence;
    const lines = (await (await fetch(`${vigil.url}${url}`, { headers: { authorization: `Bearer ${company.client.bearer}` } })).text()).split('\n').filter(Boolean);
    const header = JSON.parse(lines[0]) as { fromSeq: number; previousHash: string; checkpoints: Array<{ seq: number }> };
    expect(header).toMatchObject({ fromSeq: company.anchor.seq + 1, previousHash: company.anchor.hash });
    expect(header.checkpoints[0].seq).toBe(company.anchor.seq);
    const verify = (bundle: string[]) => {
      const file = join(work, `bundle-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, `${bundle.join('\n')}\n`);
      return promisify(execFile)('npx', ['--no-install', 'vigil-verify', file]).then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));
    };
    expect(await verify(lines)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok /) });
    const forgedStart = [lines[0].replace(company.anchor.hash, 'e'.repeat(64)), ...lines.slice(1)];
    expect(await verify(forgedStart)).toMatchObject({ code: 1 });
  });
});

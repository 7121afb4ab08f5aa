import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { DATA_FILE, backupPath, listBackups } from '../../server/src/backups/catalogue.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import { manifestSignatureValid } from '../../server/src/backups/manifest.ts';
import { restoreEmbedded } from '../../server/src/backups/restore.ts';
import { recordPlatformEvent, takeEmbeddedBackup } from '../../server/src/backups/take-backup.ts';
import { openDatabase } from '../../server/src/db/database.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { writeEvents } from '../support/journal.ts';
import { asOwner, tamperWithJournal } from '../support/owner-sql.ts';
import { signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vigil-backups-'));
const backupDir = join(work, 'backups');

let vigil: TestVigil;
let companyA: Awaited<ReturnType<typeof signUpTenant>>;
let companyB: Awaited<ReturnType<typeof signUpTenant>>;

// The embedded default on disk, whatever database the rest of the suite runs on: this is its backup.
beforeAll(async () => {
  vigil = await startVigil({
    env: { BACKUP_DIR: backupDir },
    database: { options: { dataDir: join(work, 'data') }, ownerUrl: null, drop: async () => {} } as never,
  });
  companyA = await signUpTenant(vigil.client());
  companyB = await signUpTenant(vigil.client());
  await writeEvents(vigil, companyA.tenantId, 5);
  await writeCheckpoints(vigil.services, 60);
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  rmSync(work, { recursive: true, force: true });
});

const platformEvents = (action: string) => vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action }, { orderBy: { seq: 'asc' } });
function embeddedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BACKUP_DIR: backupDir };
  delete env.DATABASE_URL;
  return env;
}
const drillDirsLeft = () => readdirSync(backupDir).filter((name) => name.startsWith('.'));

describe('embedded backups', () => {
  let backupId: string;

  test('a copy is encrypted, listed, and announced by a signed manifest in the platform journal', async () => {
    const entry = await takeEmbeddedBackup(vigil.services);
    backupId = entry.backupId;
    expect(listBackups(backupDir).map((b) => b.backupId)).toEqual([backupId]);
    const data = readFileSync(join(backupPath(backupDir, backupId), DATA_FILE));
    expect(data.subarray(0, 8).toString()).toBe('VIGILBK1');
    // Encrypted: neither the company's slug nor the gzip magic is visible.
    expect(data.includes(Buffer.from(companyA.slug))).toBe(false);
    expect(data.subarray(36, 38).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
    const [started] = await platformEvents('backup.started');
    const details = started.details as { backupId: string; manifest: any; keyId: string; signature: string };
    expect(details.backupId).toBe(backupId);
    expect(manifestSignatureValid({ manifest: details.manifest, keyId: details.keyId, signature: details.signature }, vigil.services.keys.auditVerifyKeys)).toBe(true);
    const a = details.manifest.tenants.find((t: { tenantId: string }) => t.tenantId === companyA.tenantId);
    const head = await vigil.services.db.forTenant(companyA.tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' } });
    expect(a).toMatchObject({ headSeq: head!.seq, headHash: head!.hash, counts: expect.objectContaining({ app_user: 1, audit_event: head!.seq }) });
    expect(await platformEvents('backup.completed')).toHaveLength(1);
  }, 60_000);

  test('the drill restores it, re-verifies every journal, serves it, journals the time it took and drops the scratch copy', async () => {
    const result = await runDrill(vigil.services);
    expect(result).toMatchObject({ backupId, passed: true, problems: [] });
    const [passed] = await platformEvents('backup.drill_passed');
    expect(passed.details).toMatchObject({ backupId, durationMs: result.durationMs });
    expect(drillDirsLeft()).toEqual([]);
  }, 120_000);

  test('a restore by hand brings the journal back as the manifest signed it', async () => {
    const target = join(work, 'restored');
    await restoreEmbedded(vigil.config, listBackups(backupDir)[0], target);
    const restored = await openDatabase({ dataDir: target });
    try {
      const head = await restored.forTenant(companyA.tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' } });
      const live = await vigil.services.db.forTenant(companyA.tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' } });
      expect(head!.hash).toBe(live!.hash);
    } finally {
      await restored.close();
    }
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', 'list'], { env: embeddedEnv() });
    expect(stdout).toContain(backupId);
  }, 60_000);

  test('a flipped byte in the stored copy fails the drill, naming the file', async () => {
    const file = join(backupPath(backupDir, backupId), DATA_FILE);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    const result = await runDrill(vigil.services);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toContain(`file ${DATA_FILE} is damaged`);
    const [failed] = await platformEvents('backup.drill_failed');
    expect((failed.details as { problems: string[] }).problems).toEqual(result.problems);
    expect(drillDirsLeft()).toEqual([]);
  }, 120_000);

  test('a journal row edited before the backup fails the drill with the first bad seq', async () => {
    const [row] = await asOwner(vigil, (q) => q<{ seq: number }>('select seq from audit_event where tenant_id = $1 and seq = 3', [companyB.tenantId]));
    expect(row.seq).toBe(3);
    await tamperWithJournal(vigil, `update audit_event set details = '{"edited": true}' where tenant_id = $1 and seq = 3`, [companyB.tenantId]);
    await takeEmbeddedBackup(vigil.services);
    const result = await runDrill(vigil.services);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toMatch(new RegExp(`company ${companyB.tenantId}: the journal does not verify, first bad seq 3`));
  }, 120_000);

  test('a purge receipt in the platform journal that Vigil did not sign removes nothing, and the drill fails naming it', async () => {
    // The rule for a receipt as an intruder with the application's rights could write one (purge-reapplied.test.ts has the genuine ones).
    await recordPlatformEvent(vigil.services, {
      action: 'critical_operation.purged',
      outcome: 'success',
      details: { receipt: { tenantId: companyA.tenantId, purgedAt: new Date(Date.now() - 1000).toISOString() } },
    });
    await takeEmbeddedBackup(vigil.services);
    const result = await runDrill(vigil.services);
    // (companyB's journal is still the one tampered with above.)
    expect(result.problems).toContain(`the purge receipt ${join(vigil.config.checkpointsDir, 'purges', `${companyA.tenantId}.json`)} was not applied: it is not a purge receipt`);
    expect(result.problems.join('\n')).not.toContain(`company ${companyA.tenantId}`);
    expect(existsSync(backupDir)).toBe(true);
  }, 120_000);

  test('copies older than the retention are deleted once a new one is written; the latest always stays', async () => {
    const before = listBackups(backupDir).map((b) => b.backupId);
    expect(before.length).toBeGreaterThan(1);
    vigil.clock.advance(15 * 86_400);
    const entry = await takeEmbeddedBackup(vigil.services);
    expect(listBackups(backupDir).map((b) => b.backupId)).toEqual([entry.backupId]);
    const [completed] = (await platformEvents('backup.completed')).slice(-1);
    expect((completed.details as { pruned: string[] }).pruned).toEqual(before);
  }, 60_000);
});

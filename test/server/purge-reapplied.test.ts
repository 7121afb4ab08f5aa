import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { listBackups } from '../../server/src/backups/catalogue.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import type { BackupManifest } from '../../server/src/backups/manifest.ts';
import { reapplyPurgesTo, restoreEmbedded } from '../../server/src/backups/restore.ts';
import { restoredCopyProblems } from '../../server/src/backups/restored-checks.ts';
import { takeEmbeddedBackup } from '../../server/src/backups/take-backup.ts';
import { type KeptPurgeReceipt, receiptProblem } from '../../server/src/critical-ops/purge-receipts.ts';
import { tenantRowCounts } from '../../server/src/critical-ops/purge.ts';
import { type Database, openDatabase } from '../../server/src/db/database.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { Tenant } from '../../server/src/tenants/tenant.entity.ts';
import { executedDeletion, operationState, purgeDue } from '../support/critical-ops.ts';
import { signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * A company purged after a copy was taken is in that copy. Its signed receipt, kept beside the checkpoint
 * trail, removes it again whenever the copy is opened (the drill, `npm run restore`, any Vigil starting on
 * it), before it serves; a receipt Vigil did not sign removes nothing (issue 16).
 */
const work = mkdtempSync(join(tmpdir(), 'vigil-purge-reapplied-'));
let vigil: TestVigil;
let gone: Awaited<ReturnType<typeof executedDeletion>>;
let bystander: Awaited<ReturnType<typeof signUpTenant>>;
let backupId: string;

beforeAll(async () => {
  vigil = await startVigil({
    env: { BACKUP_DIR: join(work, 'backups') },
    database: { options: { dataDir: join(work, 'data') }, ownerUrl: null, drop: async () => {} } as never,
  });
  gone = await executedDeletion(vigil);
  bystander = await signUpTenant(vigil.client());
  await writeCheckpoints(vigil.services, 60);
  // The copy: taken while the deleted company waits for its purge, so it still holds all of its data.
  backupId = (await takeEmbeddedBackup(vigil.services)).backupId;
  await purgeDue(vigil);
}, 120_000);
afterAll(async () => {
  await vigil?.stop();
  rmSync(work, { recursive: true, force: true });
});

const receiptFile = (tenantId: string) => join(vigil.config.checkpointsDir, 'purges', `${tenantId}.json`);
const platformEvents = (action: string) => vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action }, { orderBy: { seq: 'asc' } });
const rowsIn = async (db: Database, tenantId: string) => Object.values(await tenantRowCounts(db.forTenant(tenantId), tenantId)).reduce((a, b) => a + b, 0);

/** The copy restored into a new directory, as `npm run restore` does before it opens it. */
async function restoredDir(): Promise<string> {
  const dir = join(work, `restored-${Math.random().toString(36).slice(2)}`);
  await restoreEmbedded(vigil.config, listBackups(vigil.config.backup.dir).find((b) => b.backupId === backupId)!, dir);
  return dir;
}

async function opened<T>(dir: string, inspect: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ dataDir: dir });
  try {
    return await inspect(db);
  } finally {
    await db.close();
  }
}

describe('purge receipts re-applied to restored copies', () => {
  test("a purge's signed receipt is kept beside the checkpoint trail, readable only by Vigil's user", async () => {
    expect(await operationState(vigil, gone.operationId)).toBe('purged');
    expect(statSync(receiptFile(gone.tenantId)).mode & 0o077).toBe(0);
    const kept = JSON.parse(readFileSync(receiptFile(gone.tenantId), 'utf8')) as KeptPurgeReceipt;
    expect(kept.receipt).toMatchObject({ tenantId: gone.tenantId, operationId: gone.operationId });
    expect(receiptProblem(kept, vigil.services.keys.auditVerifyKeys)).toBeNull();
    expect(receiptProblem({ ...kept, receipt: { ...kept.receipt, tenantId: bystander.tenantId } }, vigil.services.keys.auditVerifyKeys)).toBe('its signature does not verify');
  });

  test('the copy taken before the purge holds the company; the drill holds it to that, and a company back fails it', async () => {
    await opened(await restoredDir(), async (db) => {
      expect(await rowsIn(db, gone.tenantId)).toBeGreaterThan(10);
      const manifest = { takenAt: new Date().toISOString(), tenants: [] } as unknown as BackupManifest;
      const problems = await restoredCopyProblems(db, manifest, {}, { keys: vigil.services.keys, scratchDir: join(work, 'scratch'), purged: new Map([[gone.tenantId, '2026-01-01T00:00:00.000Z']]) });
      expect(problems).toEqual([`company ${gone.tenantId}, purged at 2026-01-01T00:00:00.000Z, is back in the restored copy`]);
    });
  });

  test('opened as Vigil opens it, the restored copy loses the company again, once, journalled; the other company keeps everything', async () => {
    const live = await rowsIn(vigil.services.db, bystander.tenantId);
    const dir = await restoredDir();
    expect(await reapplyPurgesTo(vigil.config, { dataDir: dir })).toEqual({ reapplied: [gone.tenantId], refused: [] });
    await opened(dir, async (db) => {
      expect(await rowsIn(db, gone.tenantId)).toBe(0);
      expect(await rowsIn(db, bystander.tenantId)).toBe(live);
      expect(await db.forTenant(gone.tenantId).findOne(Tenant, { id: gone.tenantId })).toMatchObject({ name: 'Purged company', slug: `purged-${gone.tenantId}` });
      const told = await db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'critical_operation.purge_reapplied' });
      expect(told).toHaveLength(1);
      expect(told[0].details).toMatchObject({ tenantId: gone.tenantId, held: expect.objectContaining({ app_user: 3 }) });
    });
    // A second opening finds nothing to do.
    expect(await reapplyPurgesTo(vigil.config, { dataDir: dir })).toEqual({ reapplied: [], refused: [] });
    await opened(dir, async (db) => expect(await db.forTenant(PLATFORM_TENANT_ID).count(AuditEvent, { action: 'critical_operation.purge_reapplied' })).toBe(1));
  });

  test('the drill applies the receipt to the copy, finds the company gone and passes; the journal says what it re-applied', async () => {
    const result = await runDrill(vigil.services, backupId);
    expect(result.problems).toEqual([]);
    expect(result.passed).toBe(true);
    const [passed] = (await platformEvents('backup.drill_passed')).slice(-1);
    expect((passed.details as { purgesReapplied: string[] }).purgesReapplied).toEqual([gone.tenantId]);
  }, 120_000);

  test('a receipt that was not kept (its copy out failed) is kept again from the platform journal before the drill', async () => {
    rmSync(receiptFile(gone.tenantId));
    const result = await runDrill(vigil.services, backupId);
    expect(result.passed).toBe(true);
    expect(existsSync(receiptFile(gone.tenantId))).toBe(true);
  }, 120_000);

  test('a planted receipt deletes nothing, and the drill fails naming it', async () => {
    const genuine = JSON.parse(readFileSync(receiptFile(gone.tenantId), 'utf8')) as KeptPurgeReceipt;
    writeFileSync(receiptFile(bystander.tenantId), JSON.stringify({ ...genuine, receipt: { ...genuine.receipt, tenantId: bystander.tenantId } }));
    const refusal = `the purge receipt ${receiptFile(bystander.tenantId)} was not applied: its signature does not verify`;
    try {
      const result = await runDrill(vigil.services, backupId);
      expect(result.passed).toBe(false);
      expect(result.problems).toEqual([refusal]);
      const dir = await restoredDir();
      expect(await reapplyPurgesTo(vigil.config, { dataDir: dir })).toEqual({ reapplied: [gone.tenantId], refused: [refusal] });
      await opened(dir, async (db) => expect(await rowsIn(db, bystander.tenantId)).toBe(await rowsIn(vigil.services.db, bystander.tenantId)));
    } finally {
      rmSync(receiptFile(bystander.tenantId));
    }
  }, 120_000);
});

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { openDatabase } from '../db/database.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { probeRestoredApi } from './api-probe.ts';
import { DamagedBackupFile, decryptToFile, sha256OfFile } from './backup-crypto.ts';
import type { BackupServices } from './backup-services.ts';
import { type BackupEntry, DATA_FILE, MANIFEST_FILE, backupPath, listBackups } from './catalogue.ts';
import { loadEmbedded } from './embedded-copy.ts';
import { manifestSignatureValid } from './manifest.ts';
import { backupPassphrase } from './passphrase.ts';
import { type PurgedCompanies, restoredCopyProblems } from './restored-checks.ts';
import { type ManifestFile, recordPlatformEvent } from './take-backup.ts';

export interface DrillResult {
  backupId: string | null;
  passed: boolean;
  problems: string[];
  /** From the start of the restore to the restored copy answering: the measured RTO. */
  durationMs: number;
}

/**
 * The restore drill: the latest copy (or the one named) is decrypted into a scratch directory, loaded,
 * re-verified (restored-checks.ts), served by a Vigil of its own that signs a drill user in and reads its
 * journal; the outcome goes into the platform journal and the scratch copy is dropped.
 */
export async function runDrill(services: BackupServices, backupId?: string): Promise<DrillResult> {
  const started = Date.now();
  const entry = backupId ? listBackups(services.config.backup.dir).find((b) => b.backupId === backupId) : listBackups(services.config.backup.dir).at(-1);
  await mkdir(services.config.backup.dir, { recursive: true, mode: 0o700 });
  const scratch = await mkdtemp(join(services.config.backup.dir, '.drill-'));
  let problems: string[];
  try {
    problems = entry ? await drillProblems(services, entry, scratch) : [backupId ? `no backup ${backupId}` : 'no backup to restore yet'];
  } catch (error) {
    problems = [error instanceof DamagedBackupFile ? error.message : `the drill stopped: ${(error as Error).message}`];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const result: DrillResult = { backupId: entry?.backupId ?? null, passed: problems.length === 0, problems, durationMs: Date.now() - started };
  await recordPlatformEvent(services, {
    action: result.passed ? 'backup.drill_passed' : 'backup.drill_failed',
    outcome: result.passed ? 'success' : 'failure',
    details: { backupId: result.backupId, problems: result.problems, durationMs: result.durationMs },
  });
  return result;
}

async function drillProblems(services: BackupServices, entry: BackupEntry, scratch: string): Promise<string[]> {
  const dir = backupPath(services.config.backup.dir, entry.backupId);
  const damaged = await damagedFiles(dir, entry);
  if (damaged.length) return damaged;
  const passphrase = backupPassphrase(services.config);
  await decryptToFile(join(dir, MANIFEST_FILE), join(scratch, 'manifest.json'), passphrase);
  const { signed, checkpoints } = JSON.parse(await readFile(join(scratch, 'manifest.json'), 'utf8')) as ManifestFile;
  if (!manifestSignatureValid(signed, services.keys.auditVerifyKeys)) return [`the manifest of backup ${entry.backupId} is not signed by a published key`];
  await decryptToFile(join(dir, DATA_FILE), join(scratch, 'data.tar.gz'), passphrase);
  const dataDir = join(scratch, 'data');
  await loadEmbedded(join(scratch, 'data.tar.gz'), dataDir);
  await rm(join(scratch, 'data.tar.gz'));
  const restored = await openDatabase({ dataDir });
  let problems: string[];
  try {
    problems = await restoredCopyProblems(restored, signed.manifest, checkpoints, { keys: services.keys, scratchDir: scratch, purged: await purgedCompanies(services) });
  } finally {
    await restored.close();
  }
  if (problems.length) return problems;
  const apiProblem = await probeRestoredApi(services.config, scratch, { DATABASE_URL: undefined, VIGIL_DATA_DIR: dataDir });
  return apiProblem ? [apiProblem] : [];
}

/** Each stored file against the digest its entry recorded: a flipped byte is named before anything is decrypted. */
async function damagedFiles(dir: string, entry: BackupEntry): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, written] of Object.entries(entry.files)) {
    const actual = await sha256OfFile(join(dir, name)).catch(() => null);
    if (actual === null) problems.push(`backup ${entry.backupId}: file ${name} is missing`);
    else if (actual !== written.sha256) problems.push(`backup ${entry.backupId}: file ${name} is damaged (its SHA-256 is not the one recorded when it was written)`);
  }
  return problems;
}

/** The purge receipts of the live platform journal: a restore must never bring these companies back. */
async function purgedCompanies(services: BackupServices): Promise<PurgedCompanies> {
  const receipts = await services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'critical_operation.purged' }, { fields: ['details'] });
  return new Map(
    receipts.map((event) => {
      const receipt = (event.details as { receipt: { tenantId: string; purgedAt: string } }).receipt;
      return [receipt.tenantId, receipt.purgedAt] as const;
    }),
  );
}

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatabaseOptions, openDatabase } from '../db/database.ts';
import { randomBytes } from 'node:crypto';
import { logicalUrl, pgRestore, psql } from './logical-copy.ts';
import { probeRestoredApi } from './api-probe.ts';
import { DamagedBackupFile, decryptToFile, sha256OfFile } from './backup-crypto.ts';
import type { BackupServices } from './backup-services.ts';
import { type BackupEntry, DATA_FILE, MANIFEST_FILE, backupPath, listBackups } from './catalogue.ts';
import { loadEmbedded } from './embedded-copy.ts';
import { manifestSignatureValid } from './manifest.ts';
import { backupPassphrase } from './passphrase.ts';
import { restoredCopyProblems } from './restored-checks.ts';
import { type DrillPurges, drillPurges } from './drill-purges.ts';
import { type ManifestFile, recordPlatformEvent } from './take-backup.ts';
import { backupEngine } from './mode.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import { downloadCopy, listOffsiteCopies } from './offsite-copies.ts';
import { checkpointTrail } from './trail.ts';
import { ToolFailed } from './os-command.ts';
import { pgbackrestDrillProblems } from './pgbackrest-drill.ts';

export interface DrillResult {
  backupId: string | null;
  passed: boolean;
  problems: string[];
  /** From the start of the restore to the restored copy answering: the measured RTO. */
  durationMs: number;
}

/**
 * The restore drill: the latest copy (or the one named) is restored into a scratch directory (decrypted
 * and loaded, or by pgBackRest from the external repository), re-verified (restored-checks.ts), served by
 * a Vigil of its own that signs a drill user in and reads its journal; the outcome goes into the platform journal and the scratch copy is dropped.
 */
export async function runDrill(services: BackupServices, backupId?: string): Promise<DrillResult> {
  const started = Date.now();
  const { engine } = await backupEngine(services);
  // A server's tools must be able to enter the scratch directory; BACKUP_DIR may sit in a home they cannot.
  const parent = engine === 'embedded' ? services.config.backup.dir : tmpdir();
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const scratch = await mkdtemp(join(parent, engine === 'embedded' ? '.drill-' : 'vigil-drill-'));
  let drilled: { backupId: string | null; problems: string[] } = { backupId: backupId ?? null, problems: [] };
  let reapplied: string[] = [];
  try {
    const purges = await drillPurges(services);
    if (engine === 'pgbackrest') drilled = await pgbackrestDrillProblems(services, scratch, purges, backupId);
    else drilled = await catalogueDrill(services, scratch, purges, backupId);
    drilled.problems.push(...purges.outcome().refused);
    reapplied = purges.outcome().reapplied;
  } catch (error) {
    drilled.problems = [error instanceof DamagedBackupFile || error instanceof ToolFailed ? error.message : `the drill stopped: ${(error as Error).message}`];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const result: DrillResult = { backupId: drilled.backupId, passed: drilled.problems.length === 0, problems: drilled.problems, durationMs: Date.now() - started };
  await recordPlatformEvent(services, {
    action: result.passed ? 'backup.drill_passed' : 'backup.drill_failed',
    outcome: result.passed ? 'success' : 'failure',
    details: { backupId: result.backupId, mode: engine, problems: result.problems, durationMs: result.durationMs, purgesReapplied: reapplied },
  });
  return result;
}

/**
 * A copy of the catalogue: the embedded database's data directory, or a logical dump. With an external
 * bucket, the copy is fetched from there (the path a restore after losing the servers takes) and held to the
 * bucket's checkpoint trail; otherwise BACKUP_DIR's, with the trail it carries.
 */
async function catalogueDrill(services: BackupServices, scratch: string, purges: DrillPurges, backupId?: string): Promise<{ backupId: string | null; problems: string[] }> {
  const store = offsiteStore(services.config);
  const backups = store ? await listOffsiteCopies(store) : listBackups(services.config.backup.dir);
  const entry = backupId ? backups.find((b) => b.backupId === backupId) : backups.at(-1);
  if (!entry) return { backupId: backupId ?? null, problems: [backupId ? `no backup ${backupId}` : `no backup to restore yet${store ? ` in ${store.where}` : ''}`] };
  const dir = store ? join(scratch, 'copy') : backupPath(services.config.backup.dir, entry.backupId);
  if (store) await downloadCopy(store, entry, dir);
  return { backupId: entry.backupId, problems: await drillProblems(services, entry, dir, scratch, purges) };
}

async function drillProblems(services: BackupServices, entry: BackupEntry, dir: string, scratch: string, purges: DrillPurges): Promise<string[]> {
  const damaged = await damagedFiles(dir, entry);
  if (damaged.length) return damaged;
  const passphrase = backupPassphrase(services.config);
  await decryptToFile(join(dir, MANIFEST_FILE), join(scratch, 'manifest.json'), passphrase);
  const { signed, checkpoints: carried } = JSON.parse(await readFile(join(scratch, 'manifest.json'), 'utf8')) as ManifestFile;
  const tenantIds = signed.manifest.tenants.map(({ tenantId }) => tenantId);
  const checkpoints = offsiteStore(services.config) ? await checkpointTrail(services.config, tenantIds, new Date(signed.manifest.takenAt)) : carried;
  if (!manifestSignatureValid(signed, services.keys.auditVerifyKeys)) return [`the manifest of backup ${entry.backupId} is not signed by a published key`];
  const restoredCopy = entry.mode === 'logical' ? await restoreLogical(services, join(dir, DATA_FILE), scratch, passphrase) : await restoreEmbeddedCopy(join(dir, DATA_FILE), scratch, passphrase);
  try {
    const restored = await openDatabase({ ...restoredCopy.options, afterMigrations: purges.afterMigrations });
    let problems: string[];
    try {
      problems = await restoredCopyProblems(restored, signed.manifest, checkpoints, { keys: services.keys, scratchDir: scratch, purged: purges.purged });
    } finally {
      await restored.close();
    }
    if (problems.length) return problems;
    const apiProblem = await probeRestoredApi(services.config, scratch, restoredCopy.env);
    return apiProblem ? [apiProblem] : [];
  } finally {
    await restoredCopy.drop();
  }
}

/** A restored copy: how to open it here, how a Vigil process reaches it, and how it goes away. */
interface RestoredCopy {
  options: DatabaseOptions;
  env: Record<string, string | undefined>;
  drop(): Promise<void>;
}

async function restoreEmbeddedCopy(dataFile: string, scratch: string, passphrase: string): Promise<RestoredCopy> {
  await decryptToFile(dataFile, join(scratch, 'data.tar.gz'), passphrase);
  const dataDir = join(scratch, 'data');
  await loadEmbedded(join(scratch, 'data.tar.gz'), dataDir);
  await rm(join(scratch, 'data.tar.gz'));
  return { options: { dataDir }, env: { DATABASE_URL: undefined, VIGIL_DATA_DIR: dataDir }, drop: async () => {} };
}

/** A logical copy goes into a new database of the same server, dropped afterwards. */
async function restoreLogical(services: BackupServices, dataFile: string, scratch: string, passphrase: string): Promise<RestoredCopy> {
  const dumpFile = join(scratch, 'dump.pgc');
  await decryptToFile(dataFile, dumpFile, passphrase);
  const database = `vigil_drill_${randomBytes(6).toString('hex')}`;
  const drop = () => psql(services.config, `drop database if exists ${database} with (force)`).catch(() => {});
  try {
    await psql(services.config, `create database ${database}`);
    await pgRestore(services.config, dumpFile, database);
  } catch (error) {
    await drop();
    throw error;
  }
  const url = logicalUrl(services.config, database);
  return { options: { databaseUrl: url, caFile: services.config.databaseCaFile, dataDir: scratch }, env: { DATABASE_URL: url, APP_DATABASE_URL: undefined, BACKUP_MODE: 'off' }, drop };
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

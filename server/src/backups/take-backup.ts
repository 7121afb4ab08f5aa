import { Readable } from 'node:stream';
import { readCheckpoints } from '../audit/checkpoints.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { JournalWriter, SYSTEM_ORIGIN } from '../audit/journal.ts';
import { publishCommitted } from '../unit-of-work.ts';
import type { AuditEntry } from '../audit/journal.ts';
import { encryptToFile } from './backup-crypto.ts';
import type { BackupServices, TakenCopy } from './backup-services.ts';
import { type BackupEntry, DATA_FILE, MANIFEST_FILE, backupPath, ensureBackupDir, newBackupId, pruneBackups, writeEntry } from './catalogue.ts';
import { dumpEmbedded } from './embedded-copy.ts';
import { type SignedManifest, collectManifest, signManifest } from './manifest.ts';
import { backupPassphrase } from './passphrase.ts';
import { type BackupEngine, backupEngine } from './mode.ts';
import { takePgbackrestCopy } from './pgbackrest-copy.ts';
import { type ToolStream, pgDump } from './logical-copy.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import { uploadCopy } from './offsite-copies.ts';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What the manifest file of a copy holds: the signed manifest and the checkpoint trail as it stood. */
export interface ManifestFile {
  signed: SignedManifest;
  checkpoints: Record<string, string>;
}

type Copier = (services: BackupServices, signed: SignedManifest, startedAt: Date) => Promise<TakenCopy>;

/** A copy now, by the engine this installation uses (mode.ts). */
export async function takeBackup(services: BackupServices): Promise<{ backupId: string; engine: BackupEngine } & TakenCopy> {
  const { engine } = await backupEngine(services);
  const copier: Copier = engine === 'pgbackrest' ? takePgbackrestCopy : engine === 'logical' ? logicalCopier : embeddedCopier;
  return { engine, ...(await journalledCopy(services, engine, copier)) };
}

/** The embedded database's copy, with the catalogue entry that lists it. */
export async function takeEmbeddedBackup(services: BackupServices): Promise<BackupEntry> {
  const { details } = await journalledCopy(services, 'embedded', embeddedCopier);
  return details.entry as BackupEntry;
}

const embeddedCopier: Copier = async (services, signed, startedAt) => catalogueCopy(services, signed, startedAt, 'embedded', { stream: await dumpEmbedded(services.db), done: Promise.resolve() });

/** A managed service's database: the provider keeps the physical backups, this daily `pg_dump` keeps the seeds' promise. */
const logicalCopier: Copier = (services, signed, startedAt) => catalogueCopy(services, signed, startedAt, 'logical', pgDump(services.config));

/** Embedded and logical copies are files of Vigil's own catalogue in BACKUP_DIR, pruned by its retention. */
async function catalogueCopy(services: BackupServices, signed: SignedManifest, startedAt: Date, mode: BackupEntry['mode'], data: ToolStream): Promise<TakenCopy> {
  const entry = await writeCopy(services, signed, startedAt, mode, data);
  const store = offsiteStore(services.config);
  // The bucket keeps its copies by its own lifecycle and Object Lock: Vigil never deletes there.
  if (store) await uploadCopy(store, services.config.backup.dir, entry);
  const pruned = await pruneBackups(services.config.backup.dir, new Date(startedAt.getTime() - services.config.backup.retentionDays * 86_400_000));
  return { bytes: Object.values(entry.files).reduce((sum, file) => sum + file.bytes, 0), details: { entry, pruned, offsite: store?.where ?? null } };
}

/**
 * The signed manifest goes into the platform journal first (so the journal itself says what the copy must
 * hold), then the engine copies; a copy that fails leaves nothing listed and says so in the journal.
 */
async function journalledCopy(services: BackupServices, engine: BackupEngine, copier: Copier): Promise<{ backupId: string } & TakenCopy> {
  const { config, clock, keys } = services;
  const startedAt = clock.now();
  const backupId = newBackupId(startedAt);
  const manifest = await collectManifest(services, backupId, engine);
  const signed = signManifest(manifest, { key: keys.auditSigningKey, keyId: keys.auditSigningKeyId });
  await recordPlatformEvent(services, { action: 'backup.started', outcome: 'success', details: { backupId, mode: engine, manifest, keyId: signed.keyId, signature: signed.signature } });
  try {
    const copy = await copier(services, signed, startedAt);
    const { entry: _entry, ...journalled } = copy.details;
    await recordPlatformEvent(services, { action: 'backup.completed', outcome: 'success', details: { backupId, mode: engine, bytes: copy.bytes, ...journalled } });
    return { backupId, ...copy };
  } catch (error) {
    await rm(backupPath(config.backup.dir, backupId), { recursive: true, force: true });
    await recordPlatformEvent(services, { action: 'backup.failed', outcome: 'failure', details: { backupId, mode: engine, problem: (error as Error).message } });
    throw error;
  }
}

async function writeCopy(services: BackupServices, signed: SignedManifest, startedAt: Date, mode: BackupEntry['mode'], data: ToolStream): Promise<BackupEntry> {
  const { config, clock } = services;
  const passphrase = backupPassphrase(config);
  const { backupId, tenants } = signed.manifest;
  const dir = await ensureBackupDir(config.backup.dir, backupId);
  const checkpoints = Object.fromEntries(tenants.map(({ tenantId }) => [tenantId, checkpointLines(config.checkpointsDir, tenantId)]));
  const manifestFile: ManifestFile = { signed, checkpoints };
  const files = {
    [DATA_FILE]: await encryptToFile(data.stream, join(dir, DATA_FILE), passphrase),
    [MANIFEST_FILE]: await encryptToFile(Readable.from([Buffer.from(JSON.stringify(manifestFile))]), join(dir, MANIFEST_FILE), passphrase),
  };
  await data.done;
  const entry: BackupEntry = { backupId, mode, startedAt: startedAt.toISOString(), finishedAt: clock.now().toISOString(), files };
  await writeEntry(config.backup.dir, entry);
  return entry;
}

/** One journal's checkpoint trail as JSON lines; with `until`, only those signed at or before it (a prefix, so it still links). */
export function checkpointLines(dir: string, tenantId: string, until?: Date): string {
  return readCheckpoints(dir, tenantId)
    .filter((checkpoint) => !until || new Date(checkpoint.time) <= until)
    .map((checkpoint) => JSON.stringify(checkpoint))
    .join('\n');
}

/** A system event in the platform journal, in its own transaction, published once committed. */
export async function recordPlatformEvent(services: BackupServices, entry: AuditEntry): Promise<void> {
  const journal = await services.db.forTenant(PLATFORM_TENANT_ID).transactional(async (em) => {
    const writer = new JournalWriter(em, PLATFORM_TENANT_ID, SYSTEM_ORIGIN, services.clock);
    await writer.record(entry);
    return writer;
  });
  publishCommitted(services, { events: journal.recorded });
}

import { Readable } from 'node:stream';
import { readCheckpoints } from '../audit/checkpoints.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { JournalWriter, SYSTEM_ORIGIN } from '../audit/journal.ts';
import { publishCommitted } from '../unit-of-work.ts';
import type { AuditEntry } from '../audit/journal.ts';
import { encryptToFile } from './backup-crypto.ts';
import type { BackupServices } from './backup-services.ts';
import { type BackupEntry, DATA_FILE, MANIFEST_FILE, backupPath, ensureBackupDir, newBackupId, pruneBackups, writeEntry } from './catalogue.ts';
import { dumpEmbedded } from './embedded-copy.ts';
import { type SignedManifest, collectManifest, signManifest } from './manifest.ts';
import { backupPassphrase } from './passphrase.ts';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What the manifest file of a copy holds: the signed manifest and the checkpoint trail as it stood. */
export interface ManifestFile {
  signed: SignedManifest;
  checkpoints: Record<string, string>;
}

/**
 * One copy of the embedded database: the signed manifest goes into the platform journal first (so the
 * journal itself says what the copy must hold), then the data, the manifest with the checkpoints, and last
 * the entry that lists it.
 */
export async function takeEmbeddedBackup(services: BackupServices): Promise<BackupEntry> {
  const { config, clock, keys } = services;
  const passphrase = backupPassphrase(config);
  const startedAt = clock.now();
  const backupId = newBackupId(startedAt);
  const manifest = await collectManifest(services, backupId, 'embedded');
  const signed = signManifest(manifest, { key: keys.auditSigningKey, keyId: keys.auditSigningKeyId });
  await recordPlatformEvent(services, { action: 'backup.started', outcome: 'success', details: { backupId, mode: 'embedded', manifest, keyId: signed.keyId, signature: signed.signature } });
  try {
    return await writeCopy(services, signed, passphrase, startedAt);
  } catch (error) {
    // Nothing half-written stays: the unlisted directory goes, and the journal says the copy failed.
    await rm(backupPath(config.backup.dir, backupId), { recursive: true, force: true });
    await recordPlatformEvent(services, { action: 'backup.failed', outcome: 'failure', details: { backupId, problem: (error as Error).message } });
    throw error;
  }
}

async function writeCopy(services: BackupServices, signed: SignedManifest, passphrase: string, startedAt: Date): Promise<BackupEntry> {
  const { config, clock } = services;
  const { backupId, tenants } = signed.manifest;
  const dir = await ensureBackupDir(config.backup.dir, backupId);
  const checkpoints = Object.fromEntries(tenants.map(({ tenantId }) => [tenantId, checkpointLines(config.checkpointsDir, tenantId)]));
  const manifestFile: ManifestFile = { signed, checkpoints };
  const files = {
    [DATA_FILE]: await encryptToFile(await dumpEmbedded(services.db), join(dir, DATA_FILE), passphrase),
    [MANIFEST_FILE]: await encryptToFile(Readable.from([Buffer.from(JSON.stringify(manifestFile))]), join(dir, MANIFEST_FILE), passphrase),
  };
  const entry: BackupEntry = { backupId, mode: 'embedded', startedAt: startedAt.toISOString(), finishedAt: clock.now().toISOString(), files };
  await writeEntry(config.backup.dir, entry);
  const pruned = await pruneBackups(config.backup.dir, new Date(startedAt.getTime() - config.backup.retentionDays * 86_400_000));
  await recordPlatformEvent(services, { action: 'backup.completed', outcome: 'success', details: { backupId, mode: 'embedded', bytes: files[DATA_FILE].bytes + files[MANIFEST_FILE].bytes, pruned } });
  return entry;
}

function checkpointLines(dir: string, tenantId: string): string {
  return readCheckpoints(dir, tenantId).map((checkpoint) => JSON.stringify(checkpoint)).join('\n');
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

import { AuditEvent } from '../audit/audit-event.entity.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { BackupServices } from './backup-services.ts';
import type { SignedManifest } from './manifest.ts';
import type { BackupEngine } from './mode.ts';

/** A copy as the live platform journal tells it: what `backup.completed` said, and the manifest signed before it. */
export interface JournalledBackup {
  backupId: string;
  finishedAt: Date;
  completed: Record<string, unknown>;
  signed: SignedManifest;
}

/**
 * The latest completed copy of an engine (or the one named). The journal, not the repository, is the
 * catalogue of pgBackRest and logical copies: a set someone took by hand has no signed manifest to check.
 */
export async function journalledBackup(services: Pick<BackupServices, 'db'>, engine: BackupEngine, backupId?: string): Promise<JournalledBackup | null> {
  const platform = services.db.forTenant(PLATFORM_TENANT_ID);
  const completed = await platform.findOne(
    AuditEvent,
    { action: 'backup.completed', details: { mode: engine, ...(backupId ? { backupId } : {}) } },
    { orderBy: { seq: 'desc' }, fields: ['details', 'occurredAt'] },
  );
  if (!completed) return null;
  const details = completed.details as Record<string, unknown>;
  const id = details.backupId as string;
  const started = await platform.findOne(AuditEvent, { action: 'backup.started', details: { backupId: id } }, { fields: ['details'] });
  if (!started) return null;
  const { manifest, keyId, signature } = started.details as unknown as SignedManifest;
  return { backupId: id, finishedAt: completed.occurredAt, completed: details, signed: { manifest, keyId, signature } };
}

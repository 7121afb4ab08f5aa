import { AuditEvent } from '../audit/audit-event.entity.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import type { BackupServices } from './backup-services.ts';
import { listBackups } from './catalogue.ts';
import { runDrill } from './drill.ts';
import { takeEmbeddedBackup } from './take-backup.ts';

export const BACKUP_JOB = 'backup';
const HOUR_MS = 3_600_000;
/** A copy and its drill take minutes at most; the lease outlives them so that no second instance starts one. */
const LEASE_SECONDS = 3600;

/**
 * Which copy applies: the embedded database copies itself here; a PostgreSQL server is pgBackRest's
 * (continuous WAL and daily full backups, configured apart), or a managed service's own backups.
 */
export function backupMode(services: Pick<BackupServices, 'config' | 'db'>): 'embedded' | 'server' | 'off' {
  if (services.config.backup.mode === 'off') return 'off';
  return services.db.embedded ? 'embedded' : 'server';
}

/** One tick of the schedule: a copy when the last is older than the interval, then a drill when that is due; one instance per lease. */
export async function runBackupSchedule(services: BackupServices): Promise<void> {
  if (backupMode(services) !== 'embedded') return;
  const now = services.clock.now();
  const { intervalHours, drillIntervalHours } = services.config.backup;
  const last = listBackups(services.config.backup.dir).at(-1);
  const backupDue = !last || now.getTime() - new Date(last.startedAt).getTime() >= intervalHours * HOUR_MS;
  const lastDrill = await lastDrillAt(services);
  const drillDue = !lastDrill || now.getTime() - lastDrill.getTime() >= drillIntervalHours * HOUR_MS;
  if (!(backupDue || drillDue) || !(await claimLease(services.db.unscoped(), BACKUP_JOB, now, LEASE_SECONDS))) return;
  if (backupDue) await takeEmbeddedBackup(services);
  await runDrill(services);
}

async function lastDrillAt(services: BackupServices): Promise<Date | null> {
  const event = await services.db
    .forTenant(PLATFORM_TENANT_ID)
    .findOne(AuditEvent, { action: { $in: ['backup.drill_passed', 'backup.drill_failed'] } }, { orderBy: { seq: 'desc' }, fields: ['occurredAt'] });
  return event?.occurredAt ?? null;
}

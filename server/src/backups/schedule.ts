import { AuditEvent } from '../audit/audit-event.entity.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import type { BackupServices } from './backup-services.ts';
import { journalledBackup } from './journalled-backups.ts';
import { backupEngine } from './mode.ts';
import { runDrill } from './drill.ts';
import { takeBackup } from './take-backup.ts';

export const BACKUP_JOB = 'backup';
const HOUR_MS = 3_600_000;
/** A copy and its drill take minutes at most; the lease outlives them so that no second instance starts one. */
const LEASE_SECONDS = 3600;

/** One tick of the schedule: a copy when the last is older than the interval, then a drill when that is due; one instance per lease. */
export async function runBackupSchedule(services: BackupServices): Promise<void> {
  if (services.config.backup.mode === 'off') return;
  const now = services.clock.now();
  const { intervalHours, drillIntervalHours } = services.config.backup;
  const { engine } = await backupEngine(services);
  const last = await journalledBackup(services, engine);
  const backupDue = !last || now.getTime() - last.finishedAt.getTime() >= intervalHours * HOUR_MS;
  const lastDrill = await lastDrillAt(services);
  const drillDue = !lastDrill || now.getTime() - lastDrill.getTime() >= drillIntervalHours * HOUR_MS;
  if (!(backupDue || drillDue) || !(await claimLease(services.db.unscoped(), BACKUP_JOB, now, LEASE_SECONDS))) return;
  if (backupDue) await takeBackup(services);
  await runDrill(services);
}

async function lastDrillAt(services: BackupServices): Promise<Date | null> {
  const event = await services.db
    .forTenant(PLATFORM_TENANT_ID)
    .findOne(AuditEvent, { action: { $in: ['backup.drill_passed', 'backup.drill_failed'] } }, { orderBy: { seq: 'desc' }, fields: ['occurredAt'] });
  return event?.occurredAt ?? null;
}

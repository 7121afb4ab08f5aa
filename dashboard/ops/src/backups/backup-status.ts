import { ops } from '../lib/api.ts';
import type { BackupStatus } from '../lib/types.ts';

const STATUS = `query BackupStatus { backupStatus {
  engine engineReason scheduleEnabled intervalHours drillIntervalHours retentionDays
  lastBackup { backupId finishedAt ageSeconds bytes }
  lastFailure { backupId at problem journalSeq }
  lastDrill { backupId at passed problems durationMs journalSeq }
  stale rpoSeconds rpoNote archiveFailedAt
} }`;

export async function loadBackupStatus(): Promise<BackupStatus> {
  return (await ops<{ backupStatus: BackupStatus }>(STATUS)).backupStatus;
}

export const ENGINE_NAMES: Record<BackupStatus['engine'], string> = {
  EMBEDDED: 'Embedded database: an encrypted copy of its data directory',
  PGBACKREST: 'pgBackRest: continuous WAL archiving and full backups',
  LOGICAL: 'Logical copy (pg_dump) beside the managed service’s own backups',
};

/** An age or a span in its two largest units: "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

export function formatDuration(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : formatAge(ms / 1000);
}

/** Bytes in binary units, as the copies' sizes are read: "812 B", "4.2 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Hours as BACKUP_INTERVAL_HOURS says them: "24 h", "0.5 h". */
export const formatHours = (hours: number) => `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;

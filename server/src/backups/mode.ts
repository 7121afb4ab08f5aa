import type { BackupServices } from './backup-services.ts';

/**
 * How this installation's data is copied: `embedded` (PGlite: an encrypted copy of its data directory),
 * `pgbackrest` (a PostgreSQL server Vigil can reach: continuous WAL and daily full backups), `logical` (a
 * managed service such as RDS or Cloud SQL, whose provider keeps the physical backups: Vigil adds a daily
 * `pg_dump` of its own).
 */
export type BackupEngine = 'embedded' | 'pgbackrest' | 'logical';

export interface EngineDecision {
  engine: BackupEngine;
  /** Why, in a sentence an operator reads in backupStatus. */
  reason: string;
}

/** BACKUP_MODE=off stops the schedule only: the engine is still the one the commands and the status use. */
export async function backupEngine(services: Pick<BackupServices, 'config' | 'db'>): Promise<EngineDecision> {
  const { mode, pgbackrestConfig } = services.config.backup;
  if (services.db.embedded) return { engine: 'embedded', reason: 'the embedded database (no DATABASE_URL)' };
  if (mode === 'pgbackrest') return { engine: 'pgbackrest', reason: 'BACKUP_MODE=pgbackrest' };
  if (mode === 'logical') return { engine: 'logical', reason: 'BACKUP_MODE=logical' };
  if (pgbackrestConfig) return { engine: 'pgbackrest', reason: `PGBACKREST_CONFIG=${pgbackrestConfig}` };
  const archiveCommand = await readArchiveCommand(services);
  if (archiveCommand?.includes('pgbackrest')) return { engine: 'pgbackrest', reason: "the server's archive_command is pgBackRest's" };
  return {
    engine: 'logical',
    reason: archiveCommand === null ? "archive_command cannot be read (a managed service's)" : "the server's archive_command is not pgBackRest's (a managed service)",
  };
}

/** Only superusers and pg_read_all_settings may read it; a managed service's owner role usually may not. */
async function readArchiveCommand(services: Pick<BackupServices, 'db'>): Promise<string | null> {
  try {
    const [row] = await services.db.unscoped().execute<Array<{ archive_command: string }>>('show archive_command');
    return row?.archive_command ?? null;
  } catch {
    return null;
  }
}

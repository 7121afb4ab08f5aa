import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { decryptToFile } from './backup-crypto.ts';
import { type BackupEntry, DATA_FILE, backupPath, listBackups } from './catalogue.ts';
import { loadEmbedded } from './embedded-copy.ts';
import { backupPassphrase } from './passphrase.ts';
import { handToToolUser } from './os-command.ts';
import { pgbackrest } from './pgbackrest.ts';
import { pgRestore, psql } from './logical-copy.ts';
import { type DatabaseOptions, openDatabase } from '../db/database.ts';
import { type ReappliedPurges, reapplyKeptPurges } from '../critical-ops/reapply-purges.ts';
import { loadServerKeys } from '../server-keys.ts';

/** The latest complete copy taken at or before `before` (an ISO time), or the latest. */
export function backupToRestore(config: Pick<Config, 'backup'>, before?: string): BackupEntry | undefined {
  const limit = before ? new Date(before) : null;
  if (limit && Number.isNaN(limit.getTime())) throw new ConfigError(`--before ${before} is not a time (use ISO 8601, e.g. 2026-12-02T18:00:00Z)`);
  return listBackups(config.backup.dir).filter((entry) => !limit || new Date(entry.startedAt) <= limit).at(-1);
}

/** An embedded copy restored into `target`, a new or empty directory: Vigil then runs on it with VIGIL_DATA_DIR. */
export async function restoreEmbedded(config: Pick<Config, 'backup' | 'secretsDir' | 'production'>, entry: BackupEntry, target: string): Promise<void> {
  if (existsSync(target) && readdirSync(target).length) throw new ConfigError(`${target} is not empty: restore into a new directory`);
  const scratch = await mkdtemp(join(config.backup.dir, '.restore-'));
  try {
    await decryptToFile(join(backupPath(config.backup.dir, entry.backupId), DATA_FILE), join(scratch, 'data.tar.gz'), backupPassphrase(config));
    await loadEmbedded(join(scratch, 'data.tar.gz'), target);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A server's backup restored by pgBackRest from repository 1 into `target` (a new directory the server's
 * user owns): the latest set with all archived WAL, or up to `before` (point-in-time, promoted there).
 * Archiving is off in the copy: it must not write a second timeline into the production repository until
 * an operator makes it the primary (README, "Restore by hand").
 */
export async function restorePgbackrest(config: Pick<Config, 'backup'>, target: string, before?: string): Promise<void> {
  if (existsSync(target) && readdirSync(target).length) throw new ConfigError(`${target} is not empty: restore into a new directory`);
  const at = before ? new Date(before) : null;
  if (at && Number.isNaN(at.getTime())) throw new ConfigError(`--before ${before} is not a time (use ISO 8601, e.g. 2026-12-02T18:00:00Z)`);
  await mkdir(target, { recursive: true, mode: 0o700 });
  await handToToolUser(config.backup, target);
  const pointInTime = at ? ['--type=time', `--target=${at.toISOString().replace('T', ' ').replace('Z', '+00')}`, '--target-action=promote'] : [];
  await pgbackrest(config.backup, 'restore', ['--repo=1', `--pg1-path=${target}`, '--archive-mode=off', ...pointInTime]);
}

/** A logical copy restored into `database`, a new database of the server (created here). */
export async function restoreLogicalTo(config: Pick<Config, 'backup' | 'secretsDir' | 'production' | 'databaseUrl' | 'databaseCaFile'>, entry: BackupEntry, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new ConfigError(`--to ${database}: a new database's name, lower-case letters, digits and _`);
  const scratch = await mkdtemp(join(config.backup.dir, '.restore-'));
  try {
    await decryptToFile(join(backupPath(config.backup.dir, entry.backupId), DATA_FILE), join(scratch, 'dump.pgc'), backupPassphrase(config));
    await psql(config, `create database ${database}`);
    await pgRestore(config, join(scratch, 'dump.pgc'), database);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The restored database opened once, as Vigil opens it: the kept purge receipts of companies purged after
 * the copy was taken are applied (critical-ops/reapply-purges.ts) before anyone serves it.
 */
export async function reapplyPurgesTo(config: Pick<Config, 'checkpointsDir' | 'offsite' | 'secretsDir' | 'production'> & Parameters<typeof loadServerKeys>[0], options: DatabaseOptions): Promise<ReappliedPurges> {
  let outcome: ReappliedPurges = { reapplied: [], refused: [] };
  const keys = loadServerKeys(config);
  const db = await openDatabase({ ...options, afterMigrations: reapplyKeptPurges(config, keys.auditVerifyKeys, () => new Date(), (result) => (outcome = result)) });
  await db.close();
  return outcome;
}

import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { decryptToFile } from './backup-crypto.ts';
import { type BackupEntry, DATA_FILE, backupPath, listBackups } from './catalogue.ts';
import { loadEmbedded } from './embedded-copy.ts';
import { backupPassphrase } from './passphrase.ts';

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

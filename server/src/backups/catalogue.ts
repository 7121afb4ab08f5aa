import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WrittenFile } from './backup-crypto.ts';

/** What `backup.json` says of a copy, in clear: no tenant's data, so listing copies needs no passphrase. */
export interface BackupEntry {
  backupId: string;
  mode: 'embedded' | 'logical';
  startedAt: string;
  finishedAt: string;
  files: Record<string, WrittenFile>;
}

export const DATA_FILE = 'data.enc';
export const MANIFEST_FILE = 'manifest.enc';
export const ENTRY_FILE = 'backup.json';

/** Sortable by time: `20261202T201500Z-1a2b`. */
export function newBackupId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

export const backupPath = (dir: string, backupId: string) => join(dir, backupId);

/** A copy counts only once its entry is written, last and atomically: a crash mid-copy leaves no listed copy. */
export async function writeEntry(dir: string, entry: BackupEntry): Promise<void> {
  const target = join(backupPath(dir, entry.backupId), ENTRY_FILE);
  await writeFile(`${target}.partial`, JSON.stringify(entry, null, 2), { mode: 0o600 });
  await rename(`${target}.partial`, target);
}

export async function ensureBackupDir(dir: string, backupId: string): Promise<string> {
  const path = backupPath(dir, backupId);
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

/** Complete copies, oldest first. */
export function listBackups(dir: string): BackupEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, ENTRY_FILE)))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name, ENTRY_FILE), 'utf8')) as BackupEntry);
}

/** Copies started before `cutoff`, except the latest: retention never leaves nothing to restore. */
export async function pruneBackups(dir: string, cutoff: Date): Promise<string[]> {
  const backups = listBackups(dir);
  const expired = backups.slice(0, -1).filter((entry) => new Date(entry.startedAt) < cutoff);
  for (const entry of expired) await rm(backupPath(dir, entry.backupId), { recursive: true, force: true });
  return expired.map((entry) => entry.backupId);
}

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '../offsite/object-store.ts';
import { type BackupEntry, ENTRY_FILE, backupPath } from './catalogue.ts';

const copyKey = (backupId: string, name: string) => `copies/${backupId}/${name}`;

/** The copy's files to the external bucket, its entry last: a copy interrupted midway is not listed there either. */
export async function uploadCopy(store: ObjectStore, backupDir: string, entry: BackupEntry): Promise<void> {
  const dir = backupPath(backupDir, entry.backupId);
  for (const name of Object.keys(entry.files)) await store.putFile(copyKey(entry.backupId, name), join(dir, name));
  await store.putFile(copyKey(entry.backupId, ENTRY_FILE), join(dir, ENTRY_FILE));
}

/** The complete copies the external bucket holds, oldest first. */
export async function listOffsiteCopies(store: ObjectStore): Promise<BackupEntry[]> {
  const ids = (await store.list('copies/')).filter((key) => key.endsWith(`/${ENTRY_FILE}`)).map((key) => key.split('/')[1]);
  const entries: BackupEntry[] = [];
  for (const id of ids.sort()) entries.push(JSON.parse(await store.getText(copyKey(id, ENTRY_FILE))) as BackupEntry);
  return entries;
}

/** A copy brought back from the bucket into `dir`, as it was stored (still encrypted). */
export async function downloadCopy(store: ObjectStore, entry: BackupEntry, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of Object.keys(entry.files)) await store.getToFile(copyKey(entry.backupId, name), join(dir, name));
}

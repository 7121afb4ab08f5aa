import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../config-error.ts';

/**
 * One process at a time on an embedded data directory: PGlite has no postmaster to refuse a second one,
 * and two writers would corrupt it (a running Vigil and `npm run operator:create`, say). The lock is a file
 * beside the directory naming its process; one whose process is gone (a crash, a kill -9) is taken over.
 * Returns its release.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir.replace(/\/+$/, '')}.lock`;
  const mine = String(process.pid);
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (holder !== process.pid && alive(holder)) {
      throw new ConfigError(`The embedded database ${dataDir} is in use by process ${holder} (a running Vigil?): stop it first, or set DATABASE_URL to a PostgreSQL server.`);
    }
    writeFileSync(file, mine, { mode: 0o600 });
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === mine) rmSync(file, { force: true });
    } catch {
      // Gone already: nothing to release.
    }
  };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

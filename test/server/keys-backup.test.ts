import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { writeKeySet } from '../../server/src/server-keys.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vigil-keys-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `npm run keys:backup` as an operator runs it: exit code and what it printed. */
async function keysBackup(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const clean: NodeJS.ProcessEnv = { ...process.env, VIGIL_HOME: join(work, 'home'), ...env };
  delete clean.DATABASE_URL;
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/keys-backup.ts'], { env: clean });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

describe('npm run keys:backup', () => {
  const keys = writeKeySet(join(work, 'keys'));

  test('keys mounted apart from the copies: where each is and its id, never the key itself', async () => {
    const { code, out } = await keysBackup({ ...keys, BACKUP_DIR: join(work, 'backups') });
    expect(code).toBe(0);
    expect(out).toContain(`checkpoint signing key: ${keys.AUDIT_SIGNING_KEY_FILE}, id `);
    expect(out).toContain('OK: no key travels with a backup.');
    for (const file of [keys.ENCRYPTION_KEYS_FILE, keys.AUDIT_SIGNING_KEY_FILE]) {
      const secret = readFileSync(file, 'utf8').split('\n').find((line) => line.length > 20 && !line.startsWith('-----'))!;
      expect(out).not.toContain(secret.slice(-20));
    }
  });

  test('a key inside BACKUP_DIR, or readable by others, is named and the exit code says so', async () => {
    chmodSync(keys.ENCRYPTION_KEYS_FILE, 0o644);
    try {
      const { code, out } = await keysBackup({ ...keys, BACKUP_DIR: join(work, 'keys') });
      expect(code).toBe(1);
      expect(out).toContain(`the checkpoint signing key (${keys.AUDIT_SIGNING_KEY_FILE}) lies inside BACKUP_DIR`);
      expect(out).toContain(`the TOTP encryption keys (${keys.ENCRYPTION_KEYS_FILE}) may be read by other users (mode 644)`);
    } finally {
      chmodSync(keys.ENCRYPTION_KEYS_FILE, 0o600);
    }
  });
});

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config-error.ts';
import type { Config } from '../config.ts';

const GENERATED = 'backup-passphrase';

/**
 * The passphrase the copies are encrypted with (pgBackRest's repo1-cipher-pass is the operator's own). From
 * BACKUP_PASSPHRASE_FILE, kept apart from the database and the copies; the embedded default generates one
 * beside the other local secrets, which production refuses: a passphrase on the database's volume protects
 * nothing when the volume is what was lost or stolen.
 */
export function backupPassphrase(config: Pick<Config, 'backup' | 'secretsDir' | 'production'>): string {
  if (config.backup.passphraseFile) {
    try {
      const value = readFileSync(config.backup.passphraseFile, 'utf8').trim();
      if (value.length >= 16) return value;
    } catch (error) {
      throw new ConfigError(`Invalid configuration: BACKUP_PASSPHRASE_FILE (${config.backup.passphraseFile}) cannot be read (${(error as { code?: string }).code ?? 'error'})`);
    }
    throw new ConfigError('Invalid configuration: BACKUP_PASSPHRASE_FILE holds fewer than 16 characters');
  }
  if (config.production) throw new ConfigError('Backups in production need BACKUP_PASSPHRASE_FILE, a passphrase kept apart from the database and the backups');
  const file = join(config.secretsDir, GENERATED);
  if (!existsSync(file)) {
    mkdirSync(config.secretsDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

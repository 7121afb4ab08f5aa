/**
 * npm run keys:generate -- <dir>
 * Writes a set of the server's keys for a deployment (server-keys.ts, writeKeySet): <dir>/encryption-keys
 * (ENCRYPTION_KEYS_FILE), <dir>/audit-signing-key.pem (AUDIT_SIGNING_KEY_FILE) and its public half
 * <dir>/audit-verify-key.pem (for offline verifiers, and AUDIT_VERIFY_KEYS_FILE once it is retired). Never
 * over an existing file. Mount them into every instance; keep them out of the database backup and its bucket.
 * Exit code: 0 written, 2 bad usage or a file exists.
 */
import { writeKeySet } from '../server/src/server-keys.ts';

function main(): number {
  const dir = process.argv[2];
  if (!dir) {
    console.error('Usage: npm run keys:generate -- <dir>');
    return 2;
  }
  try {
    const settings = writeKeySet(dir);
    console.log(`Keys written: ENCRYPTION_KEYS_FILE=${settings.ENCRYPTION_KEYS_FILE} AUDIT_SIGNING_KEY_FILE=${settings.AUDIT_SIGNING_KEY_FILE}`);
    return 0;
  } catch (error) {
    console.error(`${dir} holds keys already (${(error as { code?: string }).code}): name a new directory; a key is never overwritten.`);
    return 2;
  }
}

process.exit(main());

import { type KeyObject, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Keys that must live outside the database: a copy of the database alone can neither decrypt
 * TOTP secrets nor forge audit checkpoints.
 */
export interface ServerKeys {
  /** AES-256-GCM; the output names its version so keys can be rotated later. */
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  readonly auditSigningKey: KeyObject;
  readonly auditVerifyKey: KeyObject;
}

const ENCRYPTION_FILE = 'encryption.key';
const SIGNING_FILE = 'audit-signing-key.pem';

/** Loads the keys from the secrets directory, generating each on first start (mode 0600). */
export function loadServerKeys(secretsDir: string): ServerKeys {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const encryptionKey = Buffer.from(
    readOrCreate(join(secretsDir, ENCRYPTION_FILE), () => randomBytes(32).toString('base64')).trim(),
    'base64',
  );
  if (encryptionKey.length !== 32) throw new Error(`${ENCRYPTION_FILE} must hold 32 bytes, base64`);
  const signingPem = readOrCreate(join(secretsDir, SIGNING_FILE), () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const auditSigningKey = createPrivateKey(signingPem);
  return {
    encrypt: (plaintext) => encrypt(encryptionKey, plaintext),
    decrypt: (ciphertext) => decrypt(encryptionKey, ciphertext),
    auditSigningKey,
    auditVerifyKey: createPublicKey(auditSigningKey),
  };
}

function readOrCreate(path: string, create: () => string): string {
  if (!existsSync(path)) writeFileSync(path, create(), { mode: 0o600, flag: 'wx' });
  return readFileSync(path, 'utf8');
}

function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

function decrypt(key: Buffer, ciphertext: string): string {
  const [version, iv, tag, body] = ciphertext.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('Unknown ciphertext format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

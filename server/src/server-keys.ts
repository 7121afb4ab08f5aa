import { type KeyObject, createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import type { Config } from './config.ts';

/**
 * Keys that must live outside the database: a copy of the database alone can neither decrypt
 * TOTP secrets nor forge audit checkpoints. From settings they are the same for every instance and rotate.
 */
export interface ServerKeys {
  /** AES-256-GCM with the current key; the output starts with that key's id, so older keys still decrypt. */
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  /** Signs checkpoints and purge receipts now. */
  readonly auditSigningKey: KeyObject;
  readonly auditSigningKeyId: string;
  readonly auditVerifyKey: KeyObject;
  /** Every public key whose signatures count, by key id: the current one and those retired by rotations. */
  readonly auditVerifyKeys: ReadonlyMap<string, KeyObject>;
}

const ENCRYPTION_FILE = 'encryption.key';
const SIGNING_FILE = 'audit-signing-key.pem';
/** The id of the key generated in the secrets directory, which is also the format's first version. */
const DEFAULT_KEY_ID = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;

/** A signing key's id: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
export function signingKeyId(key: KeyObject): string {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 16);
}

/**
 * The keys from settings (ENCRYPTION_KEYS or its file, AUDIT_SIGNING_KEY_FILE, AUDIT_VERIFY_KEYS_FILE);
 * what is not set is read from the secrets directory, generated there on first start (mode 0600), except in
 * production, which refuses to start without them. A setting that cannot be used stops the start with a
 * sentence that never repeats a key.
 */
export function loadServerKeys(source: Pick<Config, 'secretsDir' | 'keySettings' | 'production'>): ServerKeys {
  const { secretsDir, keySettings: settings } = source;
  if (source.production && (!(settings.encryptionKeys || settings.encryptionKeysFile) || !settings.signingKeyFile)) {
    // Keys generated per instance would differ between instances and die with a volume: production is given its keys.
    throw new ConfigError(
      'Refusing to start in production without the server\'s keys: set ENCRYPTION_KEYS_FILE (or ENCRYPTION_KEYS) and AUDIT_SIGNING_KEY_FILE, the same on every instance (npm run keys:generate -- <dir> writes a set)',
    );
  }
  const encryptionKeys = settings.encryptionKeys ?? (settings.encryptionKeysFile && readSetting('ENCRYPTION_KEYS_FILE', settings.encryptionKeysFile));
  const ring = encryptionKeys ? keyRing(encryptionKeys) : [[DEFAULT_KEY_ID, defaultEncryptionKey(secretsDir)] as const];
  const [currentId, currentKey] = ring[0];
  const byId = new Map(ring);
  const auditSigningKey = settings.signingKeyFile ? signingKeyFrom(readSetting('AUDIT_SIGNING_KEY_FILE', settings.signingKeyFile)) : defaultSigningKey(secretsDir);
  const auditVerifyKey = createPublicKey(auditSigningKey);
  const retired = settings.verifyKeysFile ? publicKeysIn(readSetting('AUDIT_VERIFY_KEYS_FILE', settings.verifyKeysFile)) : [];
  const auditVerifyKeys = new Map([auditVerifyKey, ...retired].map((key) => [signingKeyId(key), key] as const));
  return {
    encrypt: (plaintext) => encrypt(currentId, currentKey, plaintext),
    decrypt: (ciphertext) => decrypt(byId, ciphertext),
    auditSigningKey,
    auditSigningKeyId: signingKeyId(auditSigningKey),
    auditVerifyKey,
    auditVerifyKeys,
  };
}

function readSetting(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${name} (${path}) cannot be read (${(error as { code?: string }).code ?? 'error'})`);
  }
}

/** `id:base64,id:base64`: ids unique, each key exactly 32 bytes. */
function keyRing(value: string): Array<readonly [string, Buffer]> {
  const entries = value.split(/[,\n]/).map((entry) => entry.trim()).filter(Boolean);
  const ring = entries.map((entry, i) => {
    const [id, material, extra] = entry.split(':');
    const key = Buffer.from(material ?? '', 'base64');
    if (extra !== undefined || !KEY_ID.test(id ?? '') || key.length !== 32) {
      throw new ConfigError(`Invalid configuration: encryption key ${i + 1} is not <id>:<32 bytes in base64> (an id of letters, digits, - or _)`);
    }
    return [id, key] as const;
  });
  if (!ring.length) throw new ConfigError('Invalid configuration: ENCRYPTION_KEYS names no key');
  if (new Set(ring.map(([id]) => id)).size !== ring.length) throw new ConfigError('Invalid configuration: two encryption keys have the same id');
  return ring;
}

function signingKeyFrom(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError('Invalid configuration: AUDIT_SIGNING_KEY_FILE holds no private key (PKCS#8 PEM)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError('Invalid configuration: AUDIT_SIGNING_KEY_FILE must hold an Ed25519 key');
  return key;
}

function publicKeysIn(pems: string): KeyObject[] {
  const blocks = pems.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (!blocks.length) throw new ConfigError('Invalid configuration: AUDIT_VERIFY_KEYS_FILE holds no public key (PEM)');
  return blocks.map((block) => createPublicKey(block));
}

function defaultEncryptionKey(secretsDir: string): Buffer {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const key = Buffer.from(readOrCreate(join(secretsDir, ENCRYPTION_FILE), () => randomBytes(32).toString('base64')).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${ENCRYPTION_FILE} must hold 32 bytes, base64`);
  return key;
}

function defaultSigningKey(secretsDir: string): KeyObject {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  return createPrivateKey(readOrCreate(join(secretsDir, SIGNING_FILE), () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
}

function readOrCreate(path: string, create: () => string): string {
  if (!existsSync(path)) writeFileSync(path, create(), { mode: 0o600, flag: 'wx' });
  return readFileSync(path, 'utf8');
}

function encrypt(keyId: string, key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [keyId, iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

function decrypt(keys: ReadonlyMap<string, Buffer>, ciphertext: string): string {
  const [keyId, iv, tag, body] = ciphertext.split('.');
  const key = keys.get(keyId ?? '');
  if (!key || !iv || !tag || body === undefined) throw new Error(key ? 'Unknown ciphertext format' : `No encryption key ${keyId}: keep retired keys in ENCRYPTION_KEYS until re-encrypted`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * A deployment's key set in a directory: `encryption-keys` (one key, id k1), `audit-signing-key.pem` (Ed25519)
 * and its public half `audit-verify-key.pem`; never over an existing file, secrets 0600. Returns the settings
 * that name them (npm run keys:generate; the benchmarks' and tests' production instances).
 */
export function writeKeySet(dir: string): { ENCRYPTION_KEYS_FILE: string; AUDIT_SIGNING_KEY_FILE: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signing = generateKeyPairSync('ed25519');
  const files: Array<[string, string, number]> = [
    ['encryption-keys', `k1:${randomBytes(32).toString('base64')}\n`, 0o600],
    ['audit-signing-key.pem', signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600],
    ['audit-verify-key.pem', signing.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644],
  ];
  for (const [name, content, mode] of files) writeFileSync(join(dir, name), content, { flag: 'wx', mode });
  return { ENCRYPTION_KEYS_FILE: join(dir, 'encryption-keys'), AUDIT_SIGNING_KEY_FILE: join(dir, 'audit-signing-key.pem') };
}

import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A copy's file: `VIGILBK1`, the scrypt salt, the IV, AES-256-GCM ciphertext, the tag. Authenticated, so a
 * flipped byte anywhere makes the whole file fail to decrypt instead of restoring something else.
 */
const MAGIC = Buffer.from('VIGILBK1');
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES + IV_BYTES;

export class DamagedBackupFile extends Error {}

function keyFrom(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export interface WrittenFile {
  bytes: number;
  /** Of the encrypted file as stored: what a byte flipped in storage changes. */
  sha256: string;
}

/** Streams `source` encrypted into `file`. */
export async function encryptToFile(source: Readable, file: string, passphrase: string): Promise<WrittenFile> {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', await keyFrom(passphrase, salt), iv);
  const digest = createHash('sha256');
  let bytes = 0;
  const header = Buffer.concat([MAGIC, salt, iv]);
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      digest.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const framed = async function* (ciphertext: AsyncIterable<Buffer>) {
    yield header;
    for await (const chunk of ciphertext) yield chunk;
    yield cipher.getAuthTag();
  };
  await pipeline(source, cipher, framed, count, createWriteStream(file, { mode: 0o600 }));
  return { bytes, sha256: digest.digest('hex') };
}

/** Decrypts `file` into `target`; a file that does not authenticate leaves no target behind. */
export async function decryptToFile(file: string, target: string, passphrase: string): Promise<void> {
  const { size } = await stat(file);
  if (size < HEADER_BYTES + TAG_BYTES) throw new DamagedBackupFile(`${file} is too short to be a backup file`);
  const handle = await open(file);
  const head = Buffer.alloc(HEADER_BYTES);
  const tag = Buffer.alloc(TAG_BYTES);
  try {
    await handle.read(head, 0, HEADER_BYTES, 0);
    await handle.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    await handle.close();
  }
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new DamagedBackupFile(`${file} is not a Vigil backup file`);
  const salt = head.subarray(MAGIC.length, MAGIC.length + SALT_BYTES);
  const iv = head.subarray(MAGIC.length + SALT_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', await keyFrom(passphrase, salt), iv);
  decipher.setAuthTag(tag);
  try {
    await pipeline(createReadStream(file, { start: HEADER_BYTES, end: size - TAG_BYTES - 1 }), decipher, createWriteStream(target, { mode: 0o600 }));
  } catch (error) {
    await rm(target, { force: true });
    throw new DamagedBackupFile(`${file} does not decrypt: it was altered, or the passphrase is not the one it was written with (${(error as Error).message})`);
  }
}

export async function sha256OfFile(file: string): Promise<string> {
  const digest = createHash('sha256');
  await pipeline(createReadStream(file), digest);
  return digest.digest('hex');
}

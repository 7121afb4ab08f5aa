import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OffsiteSettings } from '../config.ts';

/**
 * The external bucket (in production versioned, with Object Lock in compliance mode): Vigil only ever
 * adds objects to it, never overwrites or deletes one, so what it holds is what was written.
 */
export interface ObjectStore {
  /** The bucket and prefix, without credentials: what the journal and the status may show. */
  readonly where: string;
  putFile(key: string, file: string): Promise<void>;
  putText(key: string, text: string): Promise<void>;
  getToFile(key: string, file: string): Promise<void>;
  getText(key: string): Promise<string>;
  /** Keys under `prefix`, sorted; only those after `startAfter` (a key) when given. */
  list(prefix: string, startAfter?: string): Promise<string[]>;
}

export function openObjectStore(settings: OffsiteSettings | undefined): ObjectStore | null {
  if (!settings) return null;
  const url = new URL(settings.url);
  const [bucket, ...prefixParts] = url.pathname.split('/').filter(Boolean);
  const prefix = prefixParts.length ? `${prefixParts.join('/')}/` : '';
  const client = new S3Client({
    endpoint: url.origin,
    region: settings.region,
    forcePathStyle: true,
    // Plain checksummed requests that every S3-compatible store understands (no aws-chunked uploads).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(settings.accessKeyId && settings.secretKeyFile
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: readFileSync(settings.secretKeyFile, 'utf8').trim() } }
      : {}),
    ...(settings.caFile ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(settings.caFile) }) }) } : {}),
  });
  // Object Lock puts must carry a Content-MD5 (S3 refuses them otherwise).
  const lock = (md5: string) =>
    settings.lockDays > 0 ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + settings.lockDays * 86_400_000), ContentMD5: md5 } : {};
  const put = async (key: string, body: Buffer | Readable, length: number, md5: string) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body, ContentLength: length, ...lock(md5) }));
  };
  const get = async (key: string) => {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }));
    return answer.Body as Readable;
  };
  return {
    where: `${url.host}/${bucket}/${prefix}`,
    async putFile(key, file) {
      const { size } = await stat(file);
      await put(key, createReadStream(file), size, await md5OfFile(file));
    },
    async putText(key, text) {
      const body = Buffer.from(text);
      await put(key, body, body.length, createHash('md5').update(body).digest('base64'));
    },
    async getToFile(key, file) {
      await pipeline(await get(key), createWriteStream(file, { mode: 0o600 }));
    },
    async getText(key) {
      const chunks: Buffer[] = [];
      for await (const chunk of await get(key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    async list(under, startAfter) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + under, ContinuationToken: token, StartAfter: startAfter ? prefix + startAfter : undefined }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!.slice(prefix.length)));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
  };
}

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

const opened = new WeakMap<OffsiteSettings, ObjectStore>();

/** One client per configuration: the checkpoint job, the copies and the drill share it. */
export function offsiteStore(config: { offsite?: OffsiteSettings }): ObjectStore | null {
  if (!config.offsite) return null;
  let store = opened.get(config.offsite);
  if (!store) opened.set(config.offsite, (store = openObjectStore(config.offsite)!));
  return store;
}

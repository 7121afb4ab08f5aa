import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { type CertificateAuthority, makeCertificateAuthority } from './certs.ts';
import { freePort } from './ports.ts';

/** s3rver's fixed credentials. */
export const S3_KEY = 'S3RVER';

/**
 * An S3-compatible server over HTTPS on `localhost` (pgBackRest checks the name against a DNS SAN; an IP
 * SAN fails, OPERATIONS.md §0), with one bucket, its objects plain files under `directory`.
 */
export interface TestS3 {
  port: number;
  bucket: string;
  caFile: string;
  /** Where an object's bytes are: `<directory>/<bucket>/<key>._S3rver_object`. */
  directory: string;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'vigil-backups'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'vigil-s3-'));
  const ca: CertificateAuthority = await makeCertificateAuthority();
  const cert = await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
  const port = await freePort();
  const server = new S3rver({
    address: 'localhost',
    port,
    silent: true,
    directory,
    key: await readFile(cert.keyFile),
    cert: await readFile(cert.certFile),
    configureBuckets: [{ name: bucket }],
    vhostBuckets: false,
  });
  await server.run();
  return {
    port,
    bucket,
    caFile: ca.caFile,
    directory,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
      await ca.destroy();
    },
  };
}

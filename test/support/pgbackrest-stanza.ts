import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresCluster } from './pg-cluster.ts';
import { S3_KEY, type TestS3 } from './s3-server.ts';

/**
 * A pgBackRest stanza `vigil` as README "Backups and failover" sets one up: repository 1 the external
 * bucket over HTTPS, repository 2 a local path, both encrypted client-side (aes-256-cbc) with
 * passphrases that live only in this file, 14 days' retention. Files belong to the server's OS user.
 */
export interface TestStanza {
  configFile: string;
  /** archive_command for the cluster's postgresql.conf. */
  archiveCommand: string;
  repo2Dir: string;
  /** BACKUP_RUN_AS: the tests run as root, PostgreSQL and pgBackRest as postgres. */
  runAs: string | undefined;
  /** Written once the cluster is up (pg1-path and port are the cluster's). */
  writeFor(cluster: PostgresCluster): void;
  destroy(): void;
}

export function prepareStanza(s3: TestS3): TestStanza {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pgbackrest-'));
  const runAs = process.getuid?.() === 0 ? 'postgres' : undefined;
  const owner = runAs ? { uid: Number(execFileSync('id', ['-u', runAs], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', runAs], { encoding: 'utf8' })) } : null;
  const configFile = join(dir, 'pgbackrest.conf');
  const repo2Dir = join(dir, 'repo2');
  const caFile = join(dir, 's3-ca.crt');
  for (const sub of ['repo2', 'log', 'lock', 'spool']) mkdirSync(join(dir, sub), { mode: 0o700 });
  copyFileSync(s3.caFile, caFile);
  const own = (path: string) => owner && chownSync(path, owner.uid, owner.gid);
  chmodSync(dir, 0o755);
  for (const path of [dir, caFile, ...['repo2', 'log', 'lock', 'spool'].map((sub) => join(dir, sub))]) own(path);
  const passphrases = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
  return {
    configFile,
    archiveCommand: `pgbackrest --config=${configFile} --stanza=vigil archive-push %p`,
    repo2Dir,
    runAs,
    writeFor(cluster) {
      writeFileSync(
        configFile,
        [
          '[global]',
          'repo1-type=s3',
          'repo1-path=/vigil',
          'repo1-s3-endpoint=localhost',
          `repo1-storage-port=${s3.port}`,
          `repo1-s3-bucket=${s3.bucket}`,
          'repo1-s3-region=us-east-1',
          `repo1-s3-key=${S3_KEY}`,
          `repo1-s3-key-secret=${S3_KEY}`,
          'repo1-s3-uri-style=path',
          `repo1-storage-ca-file=${caFile}`,
          'repo1-cipher-type=aes-256-cbc',
          `repo1-cipher-pass=${passphrases[0]}`,
          'repo1-retention-full-type=time',
          'repo1-retention-full=14',
          'repo2-type=posix',
          `repo2-path=${repo2Dir}`,
          'repo2-cipher-type=aes-256-cbc',
          `repo2-cipher-pass=${passphrases[1]}`,
          'repo2-retention-full-type=time',
          'repo2-retention-full=14',
          `log-path=${join(dir, 'log')}`,
          `lock-path=${join(dir, 'lock')}`,
          `spool-path=${join(dir, 'spool')}`,
          'start-fast=y',
          'compress-type=gz',
          'compress-level=1',
          '',
          '[vigil]',
          `pg1-path=${cluster.dataDir}`,
          `pg1-port=${cluster.port}`,
          `pg1-socket-path=${cluster.socketDir}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      own(configFile);
    },
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}

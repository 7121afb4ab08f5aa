import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import { backupEngine } from '../../server/src/backups/mode.ts';
import { repoProblems, stanzaInfo } from '../../server/src/backups/pgbackrest.ts';
import { restorePgbackrest } from '../../server/src/backups/restore.ts';
import { handToToolUser } from '../../server/src/backups/os-command.ts';
import { startScratchCluster } from '../../server/src/backups/scratch-cluster.ts';
import { readBackupStatus } from '../../server/src/backups/status.ts';
import { takeBackup } from '../../server/src/backups/take-backup.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { tamperWithJournal } from '../support/owner-sql.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type TestStanza, prepareStanza } from '../support/pgbackrest-stanza.ts';
import { type TestS3, startS3 } from '../support/s3-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A PostgreSQL server backed up by pgBackRest (issue 16): WAL archived continuously and full backups to
 * an S3-compatible bucket over HTTPS (repository 1) and a local path (repository 2), both encrypted; the
 * drill restores repository 1 and proves the copy, and fails naming the culprit when a byte of the
 * repository is flipped, a WAL segment is missing, or a journal row was edited before the backup.
 */
let s3: TestS3;
let stanza: TestStanza;
let cluster: PostgresCluster;
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof signUpTenant>>;
let label: string;

beforeAll(async () => {
  s3 = await startS3();
  stanza = prepareStanza(s3);
  cluster = await startPostgresCluster({ settings: { wal_level: 'replica', archive_mode: 'on', archive_command: stanza.archiveCommand } });
  stanza.writeFor(cluster);
  const url = cluster.superuserUrl();
  vigil = await startVigil({
    env: { DATABASE_URL: url, PGBACKREST_CONFIG: stanza.configFile, ...(stanza.runAs ? { BACKUP_RUN_AS: stanza.runAs } : {}) },
    database: { options: { databaseUrl: url, dataDir: join(cluster.socketDir, 'unused') }, ownerUrl: url, drop: async () => {} },
  });
  company = await signUpTenant(vigil.client());
  await writeEvents(vigil, company.tenantId, 5);
  await writeCheckpoints(vigil.services, 60);
}, 90_000);
afterAll(async () => {
  await vigil?.stop();
  await cluster?.destroy();
  stanza?.destroy();
  await s3?.stop();
});

const bucketDir = () => join(s3.directory, s3.bucket, 'vigil');
const platformEvents = (action: string) => vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action }, { orderBy: { seq: 'asc' } });
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name)).filter((path) => statSync(path).isFile());
}
const contains = (files: string[], needle: string) => files.some((file) => readFileSync(file).includes(Buffer.from(needle)));

/** Closes the current WAL segment and waits until the server's archive_command stored it. */
async function archiveCurrentSegment(): Promise<string> {
  const [{ segment }] = await cluster.query<{ segment: string }>('select pg_walfile_name(pg_switch_wal()) as segment');
  await waitFor(async () => ((await cluster.query<{ last: string | null }>('select last_archived_wal as last from pg_stat_archiver'))[0].last ?? '') >= segment, 30_000, 100);
  return segment;
}

describe('pgBackRest backups of a PostgreSQL server', () => {
  test('Vigil says which engine applies and why', async () => {
    expect(await backupEngine(vigil.services)).toEqual({ engine: 'pgbackrest', reason: `PGBACKREST_CONFIG=${stanza.configFile}` });
  });

  test('a full backup goes, encrypted, to the bucket over HTTPS and to the local path, after a signed manifest', async () => {
    const taken = await takeBackup(vigil.services);
    const labels = taken.details.labels as Record<string, string>;
    expect(Object.keys(labels)).toEqual(['1', '2']);
    label = labels['1'];
    const info = await stanzaInfo(vigil.config.backup);
    expect(info.backup.filter((set) => set.type === 'full').map((set) => set.database['repo-key']).sort()).toEqual([1, 2]);
    expect(filesUnder(join(bucketDir(), 'backup', 'vigil', label)).length).toBeGreaterThan(100);
    // Client-side encryption: neither repository holds the company's slug or its e-mail in clear.
    const stored = [...filesUnder(bucketDir()), ...filesUnder(stanza.repo2Dir)];
    expect(contains(stored, company.slug)).toBe(false);
    const [started] = await platformEvents('backup.started');
    expect(started.details).toMatchObject({ backupId: taken.backupId, mode: 'pgbackrest', signature: expect.any(String) });
    const [completed] = await platformEvents('backup.completed');
    expect(completed.details).toMatchObject({ backupId: taken.backupId, mode: 'pgbackrest', labels, bytes: taken.bytes });
  }, 120_000);

  test('the drill restores repository 1 with the archived WAL, re-verifies, serves it, and writes nothing into the repository', async () => {
    await writeEvents(vigil, company.tenantId, 3);
    await archiveCurrentSegment();
    const filesBefore = filesUnder(bucketDir()).length;
    const result = await runDrill(vigil.services);
    expect(result).toMatchObject({ passed: true, problems: [] });
    const [passed] = await platformEvents('backup.drill_passed');
    expect(passed.details).toMatchObject({ mode: 'pgbackrest', durationMs: result.durationMs });
    // A copy started with archiving on would have pushed a timeline 2 history file and its segments.
    expect(filesUnder(bucketDir()).filter((file) => /\/00000002/.test(file))).toEqual([]);
    expect(filesUnder(bucketDir()).length).toBe(filesBefore);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('vigil-drill-'))).toEqual([]);
    // The operators' status: this engine, this backup, a passed drill, and an RPO from the WAL archiver.
    const status = await readBackupStatus(vigil.services);
    expect(status).toMatchObject({ engine: 'pgbackrest', stale: false, lastDrill: { passed: true }, lastBackup: { backupId: result.backupId } });
    expect(status.rpoSeconds).toEqual(expect.any(Number));
  }, 180_000);

  test('a restore by hand to a point in time holds the company signed up before it and not the one after', async () => {
    const before = await signUpTenant(vigil.client());
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const pointInTime = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await signUpTenant(vigil.client());
    await archiveCurrentSegment();
    const scratch = await mkdtemp(join(tmpdir(), 'vigil-pitr-'));
    await handToToolUser(vigil.config.backup, scratch);
    try {
      await restorePgbackrest(vigil.config, join(scratch, 'data'), pointInTime.toISOString());
      const restored = await startScratchCluster(vigil.config.backup, { dataDir: join(scratch, 'data'), scratch, owner: 'postgres', database: 'postgres' });
      try {
        const client = new pg.Client({ connectionString: restored.url });
        await client.connect();
        const { rows } = await client.query<{ slug: string }>('select slug from tenant where slug = any($1)', [[before.slug, after.slug]]);
        await client.end();
        expect(rows.map((row) => row.slug)).toEqual([before.slug]);
      } finally {
        await restored.stop();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 180_000);

  test('a flipped byte in repository 1 fails the drill, naming the file', async () => {
    const files = filesUnder(join(bucketDir(), 'backup', 'vigil', label, 'pg_data', 'base')).filter((file) => file.endsWith('._S3rver_object'));
    const victim = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    const original = readFileSync(victim);
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    writeFileSync(victim, flipped);
    try {
      const result = await runDrill(vigil.services);
      expect(result.passed).toBe(false);
      const named = victim.slice(join(bucketDir(), 'backup', 'vigil').length + 1).replace(/\._S3rver_object$/, '');
      expect(result.problems).toContain(`repository 1: invalid checksum of ${named}`);
      const [failed] = (await platformEvents('backup.drill_failed')).slice(-1);
      expect((failed.details as { problems: string[] }).problems).toEqual(result.problems);
    } finally {
      writeFileSync(victim, original);
    }
  }, 180_000);

  test('a WAL segment missing from repository 1 fails the drill, naming the segment', async () => {
    await writeEvents(vigil, company.tenantId, 2);
    const gone = await archiveCurrentSegment();
    await writeEvents(vigil, company.tenantId, 2);
    await archiveCurrentSegment();
    const archived = filesUnder(join(bucketDir(), 'archive')).find((file) => file.includes(`/${gone}-`) && file.endsWith('._S3rver_object'));
    expect(archived).toBeDefined();
    const local = filesUnder(join(stanza.repo2Dir, 'archive')).find((file) => file.includes(`/${gone}-`));
    expect(local).toBeDefined();
    renameSync(archived!, `${archived}.away`);
    renameSync(local!, `${local}.away`);
    try {
      const result = await runDrill(vigil.services);
      expect(result.passed, result.problems.join('\n')).toBe(false);
      expect(result.problems.join('\n')).toContain(`repository 1: WAL segment ${gone} is missing from the archive`);
      // verify itself reports the hole as two runs and calls it no error (2.45); Vigil reads the runs.
      expect(await repoProblems(vigil.config.backup, 2)).toEqual([`repository 2: WAL segment ${gone} is missing from the archive`]);
    } finally {
      renameSync(`${archived}.away`, archived!);
      renameSync(`${local}.away`, local!);
    }
  }, 180_000);

  test('a journal row edited before the backup fails the drill with the first bad seq', async () => {
    await tamperWithJournal(vigil, `update audit_event set details = '{"edited": true}' where tenant_id = $1 and seq = 3`, [company.tenantId]);
    await takeBackup(vigil.services);
    const result = await runDrill(vigil.services);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toContain(`company ${company.tenantId}: the journal does not verify, first bad seq 3`);
  }, 240_000);
});

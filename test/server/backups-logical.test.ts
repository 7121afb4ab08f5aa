import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { DATA_FILE, backupPath, listBackups } from '../../server/src/backups/catalogue.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import { backupEngine } from '../../server/src/backups/mode.ts';
import { toolConnection } from '../../server/src/backups/logical-copy.ts';
import { ToolFailed, runTool } from '../../server/src/backups/os-command.ts';
import { restoreLogicalTo } from '../../server/src/backups/restore.ts';
import { takeBackup } from '../../server/src/backups/take-backup.ts';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { tamperWithJournal } from '../support/owner-sql.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * A managed PostgreSQL (no data directory, no archive_command of Vigil's): a daily logical copy,
 * `pg_dump -Fc` encrypted into BACKUP_DIR, that the drill restores with pg_restore into a scratch
 * database of the same server and proves as it proves every other copy (issue 16).
 */
const work = mkdtempSync(join(tmpdir(), 'vigil-logical-'));
let cluster: PostgresCluster;
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof signUpTenant>>;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const url = cluster.superuserUrl();
  vigil = await startVigil({
    env: { DATABASE_URL: url, BACKUP_DIR: join(work, 'backups') },
    database: { options: { databaseUrl: url, dataDir: join(work, 'unused') }, ownerUrl: url, drop: async () => {} },
  });
  company = await signUpTenant(vigil.client());
  await writeEvents(vigil, company.tenantId, 5);
  await writeCheckpoints(vigil.services, 60);
}, 90_000);
afterAll(async () => {
  await vigil?.stop();
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const databases = async () => (await cluster.query<{ datname: string }>('select datname from pg_database')).map((row) => row.datname);

describe('logical copies of a managed database', () => {
  test('a server whose archive_command is not pgBackRest gets the logical copy, and Vigil says why', async () => {
    expect(await backupEngine(vigil.services)).toMatchObject({ engine: 'logical', reason: expect.stringMatching(/archive_command/) });
  });

  test('the copy is a pg_dump, encrypted, listed, and the drill restores, proves and drops it', async () => {
    const taken = await takeBackup(vigil.services);
    expect(taken.engine).toBe('logical');
    const [entry] = listBackups(vigil.config.backup.dir);
    expect(entry).toMatchObject({ backupId: taken.backupId, mode: 'logical' });
    const data = readFileSync(join(backupPath(vigil.config.backup.dir, entry.backupId), DATA_FILE));
    expect(data.subarray(0, 8).toString()).toBe('VIGILBK1');
    expect(data.includes(Buffer.from(company.slug))).toBe(false);
    // pg_dump's custom format starts with PGDMP; encrypted, it does not show.
    expect(data.includes(Buffer.from('PGDMP'))).toBe(false);
    const result = await runDrill(vigil.services);
    expect(result).toMatchObject({ backupId: taken.backupId, passed: true, problems: [] });
    expect((await databases()).filter((name) => name.startsWith('vigil_drill_'))).toEqual([]);
  }, 180_000);

  test('a restore by hand into a new database brings the company back', async () => {
    await restoreLogicalTo(vigil.config, listBackups(vigil.config.backup.dir)[0], 'vigil_restored');
    const client = new pg.Client({ connectionString: cluster.superuserUrl('vigil_restored') });
    await client.connect();
    try {
      const { rows } = await client.query<{ slug: string }>('select slug from tenant');
      expect(rows.map((row) => row.slug)).toContain(company.slug);
    } finally {
      await client.end();
    }
  }, 60_000);

  test('a journal row edited before the copy fails the drill with the first bad seq', async () => {
    await tamperWithJournal(vigil, `update audit_event set details = '{"edited": true}' where tenant_id = $1 and seq = 2`, [company.tenantId]);
    await takeBackup(vigil.services);
    const result = await runDrill(vigil.services);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toContain(`company ${company.tenantId}: the journal does not verify, first bad seq 2`);
    expect((await databases()).filter((name) => name.startsWith('vigil_drill_'))).toEqual([]);
  }, 180_000);

  test('a role that cannot read through row-level security: the copy fails with a sentence saying what to set, journalled, nothing listed', async () => {
    await cluster.query("create role vigil_reader login password 'reader'");
    await cluster.query('grant select on all tables in schema public to vigil_reader');
    await cluster.query('grant select on all sequences in schema public to vigil_reader');
    const reader = cluster.superuserUrl().replace('postgres@', 'vigil_reader:reader@');
    const listed = listBackups(vigil.config.backup.dir).length;
    const services = { ...vigil.services, config: { ...vigil.config, backup: { ...vigil.config.backup, databaseUrl: reader } } };
    await expect(takeBackup(services)).rejects.toThrow(/pg_dump cannot read Vigil's tables: .* Set BACKUP_DATABASE_URL to a role with BYPASSRLS/);
    expect(listBackups(vigil.config.backup.dir)).toHaveLength(listed);
    const [failed] = (await vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'backup.failed' })).slice(-1);
    expect(failed.details).toMatchObject({ mode: 'logical', problem: expect.stringContaining('BACKUP_DATABASE_URL') });
    expect(JSON.stringify(failed.details)).not.toContain('reader@');
  }, 60_000);

  test('the tools get the password in their environment, never on a command line, and a silent failure does not repeat its arguments', async () => {
    const config = { databaseUrl: 'postgres://vigil:s%3Acret@db1:5432,db2:5432/vigil?sslmode=verify-full', databaseCaFile: undefined, backup: vigil.config.backup };
    const { dbname, env } = toolConnection(config);
    expect(dbname).toBe('postgres://vigil@db1:5432,db2:5432/vigil?sslmode=verify-full&target_session_attrs=read-write');
    expect(env.PGPASSWORD).toBe('s:cret');
    const failed = await runTool({}, '/bin/false', ['--dbname=postgres://vigil:s3cret@db1/vigil']).catch((error: Error) => error);
    expect(failed).toBeInstanceOf(ToolFailed);
    expect((failed as Error).message).toBe('false failed: exit 1');
  });
});

/** backupStatus on /ops/graphql (issue 16): the engine, the last good copy, failure and drill, staleness and the RPO estimate, for operators only. */
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import { readBackupStatus, withheld } from '../../server/src/backups/status.ts';
import { takeEmbeddedBackup } from '../../server/src/backups/take-backup.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { GraphQLClient, errorCode } from '../support/client.ts';
import { testServerUrl } from '../support/database.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { signedInOperator } from '../support/operator-console.ts';
import { asOwner, tamperWithJournal } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const STATUS = `{ backupStatus {
  engine engineReason scheduleEnabled intervalHours drillIntervalHours retentionDays
  lastBackup { backupId finishedAt ageSeconds bytes }
  lastFailure { backupId at problem journalSeq }
  lastDrill { backupId at passed problems durationMs journalSeq }
  stale rpoSeconds rpoNote archiveFailedAt
} }`;

interface Status {
  engine: string;
  engineReason: string;
  scheduleEnabled: boolean;
  intervalHours: number;
  drillIntervalHours: number;
  retentionDays: number;
  lastBackup: { backupId: string; finishedAt: string; ageSeconds: number; bytes: number | null } | null;
  lastFailure: { backupId: string | null; at: string; problem: string; journalSeq: number } | null;
  lastDrill: { backupId: string | null; at: string; passed: boolean; problems: string[]; durationMs: number | null; journalSeq: number } | null;
  stale: boolean;
  rpoSeconds: number | null;
  rpoNote: string;
  archiveFailedAt: string | null;
}

const HOUR = 3600;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The answer as an operator gets it (a fresh sign-in each time: tests move the clock past sessions). */
async function statusOf(vigil: TestVigil, operator: CreatedOperator): Promise<{ status: Status; text: string }> {
  const client = await signedInOperator(vigil, operator);
  const result = await client.request<{ backupStatus: Status }>(STATUS);
  expect(result.errors).toBeUndefined();
  return { status: result.data!.backupStatus, text: JSON.stringify(result.data) };
}

const platformEvents = (vigil: TestVigil, action: string) => vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action }, { orderBy: { seq: 'asc' } });

describe('backupStatus of an embedded Vigil', () => {
  const work = mkdtempSync(join(tmpdir(), 'vigil-backup-status-'));
  const backupDir = join(work, 'backups');
  let vigil: TestVigil;
  let operator: CreatedOperator;
  let companyA: Awaited<ReturnType<typeof signUpTenant>>;
  let companyB: Awaited<ReturnType<typeof signUpTenant>>;
  /** Every company id there is, the platform's own included: none may appear in an answer. */
  const tenantIds = () => [PLATFORM_TENANT_ID, companyA.tenantId, companyB.tenantId];
  const expectNoTenantId = (text: string) => {
    for (const id of tenantIds()) expect(text).not.toContain(id);
    expect(text).not.toMatch(UUID);
  };

  // The embedded default on disk, whatever database the rest of the suite runs on (as backups-embedded.test.ts).
  beforeAll(async () => {
    vigil = await startVigil({
      env: { BACKUP_DIR: backupDir },
      database: { options: { dataDir: join(work, 'data') }, ownerUrl: null, drop: async () => {} } as never,
    });
    operator = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
    companyA = await signUpTenant(vigil.client(), { tenantName: 'Acme Corp' });
    companyB = await signUpTenant(vigil.client(), { tenantName: 'Globex Industries' });
    await writeEvents(vigil, companyA.tenantId, 5);
    await writeCheckpoints(vigil.services, 60);
  }, 60_000);
  afterAll(async () => {
    await vigil?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('operators only: nobody, a company owner\'s token or cookie get UNAUTHENTICATED; the companies\' schema has no such field', async () => {
    const anonymous = new GraphQLClient(vigil.url, '/ops/graphql');
    const nobody = await anonymous.request(STATUS);
    expect(errorCode(nobody)).toBe('UNAUTHENTICATED');
    expect(nobody.data).toBeNull();

    const ownerClient = vigil.client();
    const owner = await signUpTenant(ownerClient);
    const withToken = new GraphQLClient(vigil.url, '/ops/graphql');
    withToken.bearer = owner.token;
    expect(errorCode(await withToken.request(STATUS))).toBe('UNAUTHENTICATED');
    const withCookie = new GraphQLClient(vigil.url, '/ops/graphql');
    for (const [name, value] of ownerClient.cookies) withCookie.cookies.set(name, value);
    expect(withCookie.cookies.size).toBeGreaterThan(0);
    const refused = await withCookie.request(STATUS);
    expect(errorCode(refused)).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(refused)).not.toContain('EMBEDDED');

    // On the companies' endpoint the owner holds every permission, and still no backupStatus: it is not there.
    const onTenantEndpoint = await bearerClient(vigil, owner.token).request('{ backupStatus { engine } }');
    expect(errorCode(onTenantEndpoint)).toBe('BAD_USER_INPUT');
    expect(onTenantEndpoint.errors![0].message).toBe('Cannot query field "backupStatus" on type "Query".');
    expect(onTenantEndpoint.data).toBeNull();
  });

  test('before any backup: the embedded engine and why, the schedule, no copy, stale, no RPO', async () => {
    const { status, text } = await statusOf(vigil, operator);
    expect(status).toEqual({
      engine: 'EMBEDDED',
      engineReason: 'the embedded database (no DATABASE_URL)',
      scheduleEnabled: true,
      intervalHours: 24,
      drillIntervalHours: 24,
      retentionDays: 14,
      lastBackup: null,
      lastFailure: null,
      lastDrill: null,
      stale: true,
      rpoSeconds: null,
      rpoNote: expect.stringMatching(/^No good backup yet/),
      archiveFailedAt: null,
    });
    expectNoTenantId(text);
  });

  let backupId: string;

  test('after a copy and its drill: the copy\'s id, size and age, the drill passed and its duration; fresh; no company id', async () => {
    const entry = await takeEmbeddedBackup(vigil.services);
    backupId = entry.backupId;
    const drill = await runDrill(vigil.services);
    expect(drill).toMatchObject({ backupId, passed: true });
    const [completed] = await platformEvents(vigil, 'backup.completed');
    const [passed] = await platformEvents(vigil, 'backup.drill_passed');
    const bytes = (completed.details as { bytes: number }).bytes;
    expect(bytes).toBeGreaterThan(0);

    const { status, text } = await statusOf(vigil, operator);
    expect(status.lastBackup).toEqual({ backupId, finishedAt: completed.occurredAt.toISOString(), ageSeconds: expect.any(Number), bytes });
    // Its age at the answer: at most the age now, a moment later.
    const ageNow = Math.floor((vigil.clock.now().getTime() - completed.occurredAt.getTime()) / 1000);
    expect(status.lastBackup!.ageSeconds).toBeLessThanOrEqual(ageNow);
    expect(status.lastBackup!.ageSeconds).toBeGreaterThanOrEqual(ageNow - 5);
    expect(status.lastBackup!.ageSeconds).toBeLessThan(300);
    expect(status.lastDrill).toEqual({ backupId, at: passed.occurredAt.toISOString(), passed: true, problems: [], durationMs: drill.durationMs, journalSeq: passed.seq });
    expect(status.lastDrill!.durationMs).toBeGreaterThan(0);
    expect(status.lastFailure).toBeNull();
    expect(status.stale).toBe(false);
    // The embedded copy's worst case: everything since the copy.
    expect(status.rpoSeconds).toBe(status.lastBackup!.ageSeconds);
    expect(status.rpoNote).toMatch(/last good copy/);
    expectNoTenantId(text);
  }, 180_000);

  test('stale once the copy is older than the interval plus two hours (26 h for 24 h), not before', async () => {
    const [completed] = (await platformEvents(vigil, 'backup.completed')).slice(-1);
    const age = () => (vigil.clock.now().getTime() - completed.occurredAt.getTime()) / 1000;
    // Each sign-in moves the clock 30 s: stop a minute short of 26 h.
    vigil.clock.advance(26 * HOUR - age() - 60);
    const before = (await statusOf(vigil, operator)).status;
    expect(before.stale).toBe(false);
    expect(before.rpoSeconds).toBeGreaterThan(25 * HOUR);
    vigil.clock.advance(60);
    const after = (await statusOf(vigil, operator)).status;
    expect(after.stale).toBe(true);
    expect(after.lastBackup!.backupId).toBe(backupId);
    expect(after.rpoSeconds).toBeGreaterThan(26 * HOUR);
  });

  test("a drill that names a broken company: failed, the problem shown without the company's id, which the journal entry keeps", async () => {
    await tamperWithJournal(vigil, `update audit_event set details = '{"edited": true}' where tenant_id = $1 and seq = 3`, [companyB.tenantId]);
    const entry = await takeEmbeddedBackup(vigil.services);
    const drill = await runDrill(vigil.services);
    expect(drill.passed).toBe(false);
    expect(drill.problems.join('\n')).toContain(`company ${companyB.tenantId}: the journal does not verify, first bad seq 3`);
    const [failed] = await platformEvents(vigil, 'backup.drill_failed');

    const { status, text } = await statusOf(vigil, operator);
    expect(status.lastBackup!.backupId).toBe(entry.backupId);
    expect(status.stale).toBe(false);
    expect(status.lastDrill).toMatchObject({ backupId: entry.backupId, passed: false, durationMs: drill.durationMs, journalSeq: failed.seq });
    expect(status.lastDrill!.problems).toEqual([expect.stringMatching(new RegExp(`^company \\[id withheld: platform journal seq ${failed.seq}\\]: the journal does not verify, first bad seq 3\\b`))]);
    expectNoTenantId(text);
    // The platform journal's entry keeps the whole text.
    expect((failed.details as { problems: string[] }).problems).toEqual(drill.problems);
  }, 180_000);

  test('a copy that fails: the failure with its problem, the last good copy unchanged', async () => {
    const good = (await statusOf(vigil, operator)).status.lastBackup!;
    // The generated passphrase a directory: the copy cannot read it.
    const passphrase = join(vigil.config.secretsDir, 'backup-passphrase');
    renameSync(passphrase, `${passphrase}.aside`);
    mkdirSync(passphrase);
    try {
      await expect(takeEmbeddedBackup(vigil.services)).rejects.toThrow();
    } finally {
      rmSync(passphrase, { recursive: true, force: true });
      renameSync(`${passphrase}.aside`, passphrase);
    }
    const [failed] = (await platformEvents(vigil, 'backup.failed')).slice(-1);
    const { status, text } = await statusOf(vigil, operator);
    expect(status.lastFailure).toEqual({
      backupId: (failed.details as { backupId: string }).backupId,
      at: failed.occurredAt.toISOString(),
      problem: (failed.details as { problem: string }).problem,
      journalSeq: failed.seq,
    });
    expect(status.lastFailure!.problem.length).toBeGreaterThan(0);
    expect(status.lastBackup!.backupId).toBe(good.backupId);
    expectNoTenantId(text);
  }, 60_000);
});

describe('what the console is shown of a problem', () => {
  test("a company's id points to the journal entry; a connection string's password is masked", () => {
    const id = '0b6c3c2e-8f5e-4f55-9d3a-2a7f1f0c9e11';
    expect(withheld(`company ${id}: the journal does not verify, first bad seq 3`, 42)).toBe('company [id withheld: platform journal seq 42]: the journal does not verify, first bad seq 3');
    expect(withheld('pg_dump: could not connect to postgres://vigil_owner:s3cret@db:5432/vigil', 7)).toBe('pg_dump: could not connect to postgres://vigil_owner:***@db:5432/vigil');
    expect(withheld('repository 1: WAL segment 000000010000000000000003 is missing from the archive', 1)).toBe('repository 1: WAL segment 000000010000000000000003 is missing from the archive');
  });
});

describe.runIf(testServerUrl())('backupStatus of a Vigil on a PostgreSQL server', () => {
  let vigil: TestVigil;
  let operator: CreatedOperator;
  let company: Awaited<ReturnType<typeof signUpTenant>>;

  beforeAll(async () => {
    vigil = await startVigil({ env: { BACKUP_MODE: 'pgbackrest', BACKUP_INTERVAL_HOURS: '6', BACKUP_RETENTION_DAYS: '30' } });
    operator = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' });
    company = await signUpTenant(vigil.client());
  }, 60_000);
  afterAll(async () => vigil?.stop());

  test("pgBackRest: the RPO is the age of the server's last archived WAL segment, read as the application role", async () => {
    const { status, text } = await statusOf(vigil, operator);
    expect(status).toMatchObject({ engine: 'PGBACKREST', engineReason: 'BACKUP_MODE=pgbackrest', scheduleEnabled: true, intervalHours: 6, retentionDays: 30, lastBackup: null, stale: true });
    // The application role may read the archiver's statistics: no "cannot be read".
    expect(status.rpoNote).not.toMatch(/cannot be read/);
    const [archiver] = await asOwner(vigil, (q) => q<{ last_archived_time: Date | null; last_failed_time: Date | null }>('select last_archived_time, last_failed_time from pg_stat_archiver'));
    if (archiver.last_archived_time === null) {
      expect(status.rpoSeconds).toBeNull();
      expect(status.rpoNote).toMatch(/archived no WAL segment yet/);
    } else {
      const age = Math.floor((vigil.clock.now().getTime() - archiver.last_archived_time.getTime()) / 1000);
      expect(Math.abs(status.rpoSeconds! - age)).toBeLessThanOrEqual(60);
    }
    const failedLater = archiver.last_failed_time && (!archiver.last_archived_time || archiver.last_failed_time > archiver.last_archived_time);
    expect(status.archiveFailedAt).toBe(failedLater ? archiver.last_failed_time!.toISOString() : null);
    expect(text).not.toContain(company.tenantId);
    expect(text).not.toContain(PLATFORM_TENANT_ID);
  });

  test('a managed service (logical) or the schedule off: said so, and the RPO is the age of the last logical copy', async () => {
    const withMode = (mode: 'logical' | 'off') => ({ ...vigil.services, config: { ...vigil.config, backup: { ...vigil.config.backup, mode } } });
    const logical = await readBackupStatus(withMode('logical'));
    expect(logical).toMatchObject({ engine: 'logical', engineReason: 'BACKUP_MODE=logical', scheduleEnabled: true, lastBackup: null, stale: true, rpoSeconds: null });
    expect(logical.rpoNote).toMatch(/^No good backup yet/);
    const off = await readBackupStatus(withMode('off'));
    expect(off.scheduleEnabled).toBe(false);
    // Off stops the schedule, not the engine: auto-detection says which one the commands use, and why.
    expect(['pgbackrest', 'logical']).toContain(off.engine);
    expect(off.engineReason).toMatch(/archive_command/);
  });
});

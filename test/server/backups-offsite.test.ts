import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { readCheckpoints, verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { sharedTrail } from '../../server/src/audit/shared-trail.ts';
import { DATA_FILE, backupPath } from '../../server/src/backups/catalogue.ts';
import { reapplyPurgesTo, restoreEmbedded } from '../../server/src/backups/restore.ts';
import { runDrill } from '../../server/src/backups/drill.ts';
import { takeEmbeddedBackup } from '../../server/src/backups/take-backup.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { tamperWithJournal } from '../support/owner-sql.ts';
import { writeEvents } from '../support/journal.ts';
import { S3_KEY, type TestS3, startS3 } from '../support/s3-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * The external bucket (issue 16): every signed checkpoint and every copy also goes there, and the drill
 * restores from there, holding the copy to the bucket's trail, so a copy survives the loss of the servers
 * and of VIGIL_HOME, and a byte changed in the bucket is named.
 */
const work = mkdtempSync(join(tmpdir(), 'vigil-offsite-'));
let s3: TestS3;
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof signUpTenant>>;

beforeAll(async () => {
  s3 = await startS3();
  writeFileSync(join(work, 's3-secret'), `${S3_KEY}\n`, { mode: 0o600 });
  vigil = await startVigil({
    env: {
      BACKUP_DIR: join(work, 'backups'),
      OFFSITE_S3_URL: `https://localhost:${s3.port}/${s3.bucket}/vigil`,
      OFFSITE_S3_ACCESS_KEY_ID: S3_KEY,
      OFFSITE_S3_SECRET_KEY_FILE: join(work, 's3-secret'),
      OFFSITE_S3_CA_FILE: s3.caFile,
    },
    database: { options: { dataDir: join(work, 'data') }, ownerUrl: null, drop: async () => {} } as never,
  });
  company = await signUpTenant(vigil.client());
  await writeEvents(vigil, company.tenantId, 4);
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

const inBucket = (key: string) => join(s3.directory, s3.bucket, 'vigil', `${key}._S3rver_object`);

describe('the external bucket', () => {
  test('every signed checkpoint is also an object of its own in the bucket', async () => {
    expect(await writeCheckpoints(vigil.services, 60)).toBeGreaterThan(0);
    const [local] = readCheckpoints(vigil.config.checkpointsDir, company.tenantId);
    const stored = JSON.parse(readFileSync(inBucket(`checkpoints/${company.tenantId}/${String(local.seq).padStart(12, '0')}.json`), 'utf8'));
    expect(stored).toEqual(local);
  });

  test('a copy goes to the bucket, and the drill restores it from there even when BACKUP_DIR lost it', async () => {
    const entry = await takeEmbeddedBackup(vigil.services);
    const [completed] = await vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'backup.completed' });
    expect(completed.details).toMatchObject({ offsite: `localhost:${s3.port}/${s3.bucket}/vigil/` });
    expect(readFileSync(inBucket(`copies/${entry.backupId}/${DATA_FILE}`)).equals(readFileSync(join(backupPath(vigil.config.backup.dir, entry.backupId), DATA_FILE)))).toBe(true);
    rmSync(vigil.config.backup.dir, { recursive: true, force: true });
    const result = await runDrill(vigil.services);
    expect(result).toMatchObject({ backupId: entry.backupId, passed: true, problems: [] });
  }, 120_000);

  test('a byte changed in the bucket fails the drill, naming the file', async () => {
    const [latest] = (await vigil.services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'backup.completed' })).slice(-1);
    const file = inBucket(`copies/${(latest.details as { backupId: string }).backupId}/${DATA_FILE}`);
    const original = readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 40] ^= 0x01;
    writeFileSync(file, flipped);
    try {
      const result = await runDrill(vigil.services);
      expect(result.passed).toBe(false);
      expect(result.problems.join('\n')).toContain(`file ${DATA_FILE} is damaged`);
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  test("the drill holds the copy to the bucket's trail: a checkpoint rewritten there fails it", async () => {
    const [first] = readCheckpoints(vigil.config.checkpointsDir, company.tenantId);
    const file = inBucket(`checkpoints/${company.tenantId}/${String(first.seq).padStart(12, '0')}.json`);
    const original = readFileSync(file);
    writeFileSync(file, JSON.stringify({ ...first, seq: first.seq - 1 }));
    try {
      const result = await runDrill(vigil.services);
      expect(result.passed).toBe(false);
      expect(result.problems.join('\n')).toContain(`company ${company.tenantId}: the checkpoint trail the copy is held to is not intact`);
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  test("instances with their own VIGIL_HOME share the bucket's trail: each links to the other's latest, verifies against it, and sees a rollback by it", async () => {
    // Another instance: the same database, keys and bucket, a VIGIL_HOME of its own that starts empty.
    const other = { ...vigil.services, config: { ...vigil.config, checkpointsDir: join(work, 'home-b', 'checkpoints') } };
    const nextTick = async (services: typeof vigil.services) => {
      vigil.clock.advance(61);
      expect(await writeCheckpoints(services, 60)).toBeGreaterThan(0);
    };
    await writeEvents(vigil, company.tenantId, 2);
    await nextTick(other);
    const mine = readCheckpoints(vigil.config.checkpointsDir, company.tenantId);
    const theirs = readCheckpoints(other.config.checkpointsDir, company.tenantId);
    expect(theirs.slice(0, mine.length)).toEqual(mine);
    expect(theirs.at(-1)!.previousSignature).toBe(mine.at(-1)!.signature);

    await writeEvents(vigil, company.tenantId, 2);
    await nextTick(vigil.services);
    const both = readCheckpoints(vigil.config.checkpointsDir, company.tenantId);
    expect(both.at(-2)).toEqual(theirs.at(-1));
    expect(both.at(-1)!.previousSignature).toBe(theirs.at(-1)!.signature);
    expect(verifiedCheckpoints(vigil.config.checkpointsDir, vigil.services.keys.auditVerifyKeys, company.tenantId)).toMatchObject({ problem: null, valid: both });

    // The other instance signs the latest; verifyAuditChain, served by this one, holds the journal to it.
    await writeEvents(vigil, company.tenantId, 1);
    await nextTick(other);
    const latest = readCheckpoints(other.config.checkpointsDir, company.tenantId).at(-1)!;
    expect(readCheckpoints(vigil.config.checkpointsDir, company.tenantId).at(-1)!.seq).toBeLessThan(latest.seq);
    const report = (await bearerClient(vigil, company.token).ok('{ verifyAuditChain { ok lastCheckpoint { seq } } }')).verifyAuditChain;
    expect(report).toEqual({ ok: true, lastCheckpoint: { seq: latest.seq } });
    const trail = await sharedTrail(vigil.config, vigil.services.keys.auditVerifyKeys, company.tenantId);
    expect(trail).toMatchObject({ problem: null, valid: readCheckpoints(other.config.checkpointsDir, company.tenantId) });

    // The journal cut behind what the first instance signed: a third, new instance reports it from the bucket's trail.
    await tamperWithJournal(vigil, 'delete from audit_event where tenant_id = $1 and seq = $2', [company.tenantId, latest.seq]);
    const third = { ...vigil.services, config: { ...vigil.config, checkpointsDir: join(work, 'home-c', 'checkpoints') } };
    vigil.clock.advance(61);
    await writeCheckpoints(third, 60);
    const [rollback] = await vigil.services.db.forTenant(company.tenantId).find(AuditEvent, { action: 'journal.rollback_detected' });
    expect(rollback.details).toMatchObject({ missingFromSeq: latest.seq, missingToSeq: latest.seq, checkpointSeq: latest.seq });
  }, 60_000);

  test('a bucket out of reach: a verification says so instead of checking less, and an opening applies the receipts it has', async () => {
    const unreachable = { ...vigil.config, offsite: { ...vigil.config.offsite!, url: 'https://localhost:1/vigil-backups/vigil' } };
    await expect(sharedTrail(unreachable, vigil.services.keys.auditVerifyKeys, company.tenantId)).rejects.toThrow(/the external bucket's checkpoint trail cannot be read/);
    const dir = join(work, 'restored-unreachable');
    await restoreEmbedded(vigil.config, await takeEmbeddedBackup(vigil.services), dir);
    const outcome = await reapplyPurgesTo(unreachable, { dataDir: dir });
    expect(outcome.reapplied).toEqual([]);
    expect(outcome.refused).toEqual([expect.stringMatching(/^the purge receipts in the external bucket could not be read \(.+\); this instance's own were applied$/)]);
  }, 60_000);
});


import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { AuditSigningKey } from './signing-key.entity.ts';
import { type Checkpoint, appendCheckpoint, offsiteCheckpointKey, readCheckpoints } from './checkpoints.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import { catchUpTrail } from './shared-trail.ts';
import { SYSTEM_ORIGIN } from './journal.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

export const CHECKPOINT_JOB = 'audit_checkpoint';

/**
 * Signs the head of every journal that moved since its last checkpoint; one instance per lease. A journal
 * found behind its last checkpoint lost what was signed (an asynchronous failover, a restore of an older
 * copy): that is reported once, in its own journal and the platform journal, with the missing seq range.
 */
export async function writeCheckpoints(services: Services, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), CHECKPOINT_JOB, now, leaseSeconds))) return 0;
  if (await signingKeyRetired(services, now)) return 0;
  let written = 0;
  for (const tenantId of [PLATFORM_TENANT_ID, ...(await services.locators.allTenantIds())]) {
    const head = await services.db.forTenant(tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] });
    // A journal with no event is a purged company's: its trail went with it (sign-up journals the first event).
    if (head) await catchUpQuietly(services, tenantId);
    const last = readCheckpoints(services.config.checkpointsDir, tenantId).at(-1);
    if (last && (head?.seq ?? 0) < last.seq) await reportRollback(services, tenantId, head?.seq ?? 0, last);
    if (!head || (last && last.seq >= head.seq)) continue;
    const checkpoint = appendCheckpoint(services.config.checkpointsDir, { key: services.keys.auditSigningKey, keyId: services.keys.auditSigningKeyId }, { tenantId, seq: head.seq, hash: head.hash }, now);
    await copyOffsite(services, checkpoint);
    written += 1;
  }
  services.metrics.checkpointsSigned(written, now);
  return written;
}

/** The bucket's trail unreachable: this instance's copy decides, and the next tick catches up. */
async function catchUpQuietly(services: Services, tenantId: string): Promise<void> {
  try {
    await catchUpTrail(services.config, tenantId);
  } catch (error) {
    services.log.error({ err: error, tenantId }, 'checkpoint trail not caught up with the external bucket');
  }
}

/**
 * Every checkpoint also goes to the external bucket, one object each (object-locked objects are never
 * rewritten): the trail every instance and the drill read. A failed upload is logged; the local trail keeps it.
 */
async function copyOffsite(services: Services, checkpoint: Checkpoint): Promise<void> {
  try {
    await offsiteStore(services.config)?.putText(offsiteCheckpointKey(checkpoint), JSON.stringify(checkpoint));
  } catch (error) {
    services.log.error({ err: error, tenantId: checkpoint.tenantId, seq: checkpoint.seq }, 'checkpoint not copied to the external bucket');
  }
}

const ROLLBACK = 'journal.rollback_detected';

async function reportRollback(services: Services, tenantId: string, headSeq: number, last: Checkpoint): Promise<void> {
  const reported = await services.db.forTenant(tenantId).find(AuditEvent, { action: ROLLBACK }, { fields: ['details'] });
  const same = (details: unknown) => (details as { tenantId?: string }).tenantId === tenantId && (details as { checkpointSeq?: number }).checkpointSeq === last.seq;
  if (reported.some((event) => same(event.details))) return;
  const details = { tenantId, missingFromSeq: headSeq + 1, missingToSeq: last.seq, checkpointSeq: last.seq, checkpointTime: last.time };
  const record = (journalOf: string) =>
    inTenantTransaction(services, { tenantId: journalOf, origin: SYSTEM_ORIGIN, viewer: null }, ({ journal }) => journal.record({ action: ROLLBACK, outcome: 'failure', details }));
  // Recorded in the company's journal first: that row is what says it was reported.
  if (tenantId !== PLATFORM_TENANT_ID) await record(tenantId);
  await record(PLATFORM_TENANT_ID);
}

/**
 * An instance left on a key that a rotation retired (past its rollout grace) signs nothing: its checkpoints
 * would not verify against the published keys. Said every run until it is restarted with the current key.
 */
async function signingKeyRetired(services: Services, now: Date): Promise<boolean> {
  const row = await services.db.unscoped().findOne(AuditSigningKey, { keyId: services.keys.auditSigningKeyId });
  if (!row?.notAfter || row.notAfter > now) return false;
  services.log.error({ keyId: row.keyId, retiredAt: row.notAfter.toISOString() }, 'this instance signs with a retired key: no checkpoint is signed until it restarts with the current AUDIT_SIGNING_KEY_FILE');
  return true;
}

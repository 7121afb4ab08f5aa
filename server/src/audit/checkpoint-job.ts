import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { appendCheckpoint, readCheckpoints } from './checkpoints.ts';

export const CHECKPOINT_JOB = 'audit_checkpoint';

/** Signs the head of every journal that moved since its last checkpoint; one instance per lease. */
export async function writeCheckpoints(services: Services, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), CHECKPOINT_JOB, now, leaseSeconds))) return 0;
  let written = 0;
  for (const tenantId of [PLATFORM_TENANT_ID, ...(await services.locators.allTenantIds())]) {
    const head = await services.db.forTenant(tenantId).findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] });
    const last = readCheckpoints(services.config.checkpointsDir, tenantId).at(-1);
    if (!head || (last && last.seq >= head.seq)) continue;
    appendCheckpoint(services.config.checkpointsDir, { key: services.keys.auditSigningKey, keyId: services.keys.auditSigningKeyId }, { tenantId, seq: head.seq, hash: head.hash }, now);
    written += 1;
  }
  return written;
}

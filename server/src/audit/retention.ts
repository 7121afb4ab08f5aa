import { z } from 'zod';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { type ViewerWork, inTenantTransaction } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { SYSTEM_ORIGIN } from './journal.ts';
import { sharedTrail } from './shared-trail.ts';
import { journalAnchor } from './verify.ts';

export const RETENTION_JOB = 'audit_retention';
const YEAR_MS = 365.25 * 86_400_000;

const RetentionSchema = z.object({
  years: z.number().int().min(1, 'At least a year.').max(10, 'At most ten years.').nullable(),
});

/** The owner's retention of the journal: 1 to 10 years, or null to keep it forever (the default). */
export async function updateJournalRetention(work: ViewerWork, input: { years: number | null }): Promise<Tenant> {
  const { years } = parseInput(RetentionSchema, input);
  const tenant = await work.em.findOneOrFail(Tenant, work.viewer.tenantId);
  const before = tenant.journalRetentionYears ?? null;
  tenant.journalRetentionYears = years;
  await work.em.flush();
  await work.journal.record({ action: 'tenant.journal_retention_updated', target: { type: 'tenant', id: tenant.id }, details: { before: { years: before }, after: { years } } });
  return tenant;
}

/**
 * The retention, for every company that set one (one instance per lease): the events older than it are removed
 * only up to the latest signed checkpoint whose event is that old, which becomes the chain's anchor; what
 * follows it still verifies, from it. The removal is journalled in the same transaction. A journal whose
 * trail cannot be read, or whose checkpoint does not match its row, keeps everything.
 */
export async function applyJournalRetention(services: Services, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), RETENTION_JOB, now, leaseSeconds))) return 0;
  let applied = 0;
  for (const tenantId of await services.locators.allTenantIds()) {
    if (tenantId === PLATFORM_TENANT_ID) continue;
    const tenant = await services.db.forTenant(tenantId).findOne(Tenant, tenantId, { fields: ['journalRetentionYears'] });
    if (!tenant?.journalRetentionYears) continue;
    const cutoff = new Date(now.getTime() - tenant.journalRetentionYears * YEAR_MS);
    if (await retainFrom(services, tenantId, tenant.journalRetentionYears, cutoff).catch((error: unknown) => void services.log.error({ err: error, tenantId }, 'journal retention not applied'))) applied += 1;
  }
  return applied;
}

async function retainFrom(services: Services, tenantId: string, years: number, cutoff: Date): Promise<boolean> {
  const em = services.db.forTenant(tenantId);
  const trail = await sharedTrail(services.config, services.keys.auditVerifyKeys, tenantId);
  if (trail.problem) return false;
  const anchor = await journalAnchor(em);
  for (const checkpoint of [...trail.valid].reverse()) {
    if (checkpoint.seq <= (anchor?.seq ?? 0)) return false;
    const event = await em.findOne(AuditEvent, { seq: checkpoint.seq }, { fields: ['hash', 'occurredAt'] });
    if (!event || event.hash !== checkpoint.hash) return false;
    if (event.occurredAt >= cutoff) continue;
    await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em: tx, journal }) => {
      const [{ removed }] = await tx.execute<Array<{ removed: string }>>('select vigil_apply_retention(?, ?, ?) as removed', [tenantId, checkpoint.seq, checkpoint.hash]);
      await journal.record({
        action: 'audit.retention_applied',
        details: { retentionYears: years, removedThroughSeq: checkpoint.seq, removed: Number(removed), anchorHash: checkpoint.hash, checkpointTime: checkpoint.time },
      });
    });
    return true;
  }
  return false;
}

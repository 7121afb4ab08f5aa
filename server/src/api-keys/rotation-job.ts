import { ErrorCode } from '../errors.ts';
import { claimLease } from '../jobs/lease.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { ApiKey } from './api-key.entity.ts';
import { isUsable, rotateApiKey } from './api-keys.ts';

export const ROTATION_JOB = 'api_key_auto_rotation';
/** The old secret of an automatically rotated key keeps working this long, so integrations can switch. */
export const AUTO_ROTATION_GRACE_SECONDS = 24 * 60 * 60;

/**
 * Rotates every key older than its tenant's maximum age (the seeds: changed automatically when not
 * rotated for six months). Runs on one instance per lease; a key is rotated once even if two run.
 */
export async function rotateAgedApiKeys(services: Services, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), ROTATION_JOB, now, leaseSeconds))) return 0;
  let rotated = 0;
  for (const tenantId of await services.locators.allTenantIds()) {
    const em = services.db.forTenant(tenantId);
    const tenant = await em.findOneOrFail(Tenant, tenantId);
    const cutoff = new Date(now.getTime() - tenant.apiKeyMaxAgeDays * 86_400_000);
    const due = await em.find(ApiKey, { revokedAt: null, rotatedToId: null, createdAt: { $lte: cutoff } }, { populate: ['user'] });
    for (const key of due.filter((k) => isUsable(k, now))) {
      try {
        await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, (work) =>
          rotateApiKey(work, key, AUTO_ROTATION_GRACE_SECONDS, { auto: true, reason: 'max_age' }),
        );
        rotated += 1;
      } catch (error) {
        if ((error as { extensions?: { code?: string } }).extensions?.code !== ErrorCode.CONFLICT) throw error;
      }
    }
  }
  return rotated;
}

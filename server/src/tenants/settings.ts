import { z } from 'zod';
import { SessionPolicySchema } from '../sessions/session-policy.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { Tenant } from './tenant.entity.ts';

/** Lifetimes apply at once: a shorter absolute timeout also shortens sessions already open. */
export async function updateSessionPolicy(work: ViewerWork, input: unknown): Promise<Tenant> {
  const tenant = await work.em.findOneOrFail(Tenant, work.viewer.tenantId);
  const before = pickPolicy(tenant);
  const policy = parseInput(SessionPolicySchema, { ...before, ...input as object });
  Object.assign(tenant, policy);
  await work.em.flush();
  if (policy.absoluteTimeoutSeconds < before.absoluteTimeoutSeconds) {
    await work.em.execute(
      `update session set expires_at = least(expires_at, created_at + make_interval(secs => ?)) where ended_at is null`,
      [policy.absoluteTimeoutSeconds],
    );
  }
  await work.journal.record({ action: 'tenant.session_policy_updated', target: { type: 'tenant', id: tenant.id }, details: { before, after: policy } });
  work.signal({ everyone: true });
  return tenant;
}

export const ApiKeyPolicySchema = z.object({
  maxAgeDays: z.number().int().min(1, 'At least one day.').max(366, 'At most a year: keys must not live forever.'),
});

export async function updateApiKeyPolicy(work: ViewerWork, input: unknown): Promise<Tenant> {
  const tenant = await work.em.findOneOrFail(Tenant, work.viewer.tenantId);
  const { maxAgeDays } = parseInput(ApiKeyPolicySchema, input);
  const before = tenant.apiKeyMaxAgeDays;
  tenant.apiKeyMaxAgeDays = maxAgeDays;
  await work.em.flush();
  await work.journal.record({ action: 'tenant.api_key_policy_updated', target: { type: 'tenant', id: tenant.id }, details: { before: { maxAgeDays: before }, after: { maxAgeDays } } });
  return tenant;
}

function pickPolicy(tenant: Tenant) {
  const { idleTimeoutSeconds, absoluteTimeoutSeconds, rotationIntervalSeconds, rotationGraceSeconds } = tenant;
  return { idleTimeoutSeconds, absoluteTimeoutSeconds, rotationIntervalSeconds, rotationGraceSeconds };
}


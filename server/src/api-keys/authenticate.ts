import { type Permission, isPermission, rolePermissions } from '../access/permissions.ts';
import type { ApiKeyView, ApiKeyViewer } from '../access/viewer.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { RequestAuth, RequestMeta } from '../context.ts';
import type { ApiKeySnapshot } from '../access/credential-lookup.ts';
import type { Services } from '../services.ts';
import { sameHash } from '../tokens.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { ApiKey } from './api-key.entity.ts';
import { readApiKey } from './api-key-token.ts';
import { isUsable } from './api-keys.ts';
import { noteKeyNetwork } from './key-networks.ts';

/** last_used is written at most this often per key. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

const USED_AFTER_REVOCATION = 'api_key.used_after_revocation';

const anonymous: RequestAuth = { viewer: null, em: null };

/** One journal entry per revoked key per minute is evidence enough; more would let an attacker flood the journal. */
const REPORT_INTERVAL_SECONDS = 60;

/**
 * Resolves `vgl_…` to a viewer acting for the key's creator, with the intersection of the key's and the
 * creator's current permissions: a creator who loses a permission or is disabled takes it from the key.
 */
export async function authenticateApiKey(services: Services, token: string, meta: RequestMeta): Promise<RequestAuth> {
  const presented = readApiKey(token);
  const found = presented ? await services.credentials.apiKey(presented.id) : null;
  if (!presented || !found || !sameHash(presented.secretHash, found.apiKey.secretHash)) return refused(services, 'unknown');
  const { em, apiKey: key, tenant } = found;
  const now = services.clock.now();
  if (!isUsable(key, now)) {
    if (key.revokedAt || (key.validUntil && now >= key.validUntil)) await reportUseAfterRevocation(services, tenant.id, key, meta);
    return refused(services, 'revoked');
  }
  const viewer = apiKeyViewer(found, now);
  if (!viewer) return refused(services, 'creator_disabled');
  services.metrics.apiKeyAuthenticated('success');
  // Where the key is used from is evidence, never a reason to refuse the request: a failure is logged.
  await noteKeyNetwork(services, tenant.id, { id: key.id, prefix: key.prefix, userId: key.user.id }, meta).catch((error: unknown) => services.log.error({ err: error, tenantId: tenant.id }, 'the network of an API key use was not journalled'));
  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_SECONDS * 1000) {
    await em.nativeUpdate(ApiKey, { id: key.id }, { lastUsedAt: now, lastUsedIp: meta.ip });
  }
  return { viewer, em };
}

/** A key that does not authenticate: the request goes on as nobody's (and is counted by why). */
function refused(services: Services, outcome: 'unknown' | 'revoked' | 'creator_disabled'): RequestAuth {
  services.metrics.apiKeyAuthenticated(outcome);
  return anonymous;
}

/**
 * The viewer a key acts as now, or null when it is not usable: the intersection of the key's and its
 * creator's current permissions, so a creator who loses a permission or is disabled takes it from the key.
 */
export function apiKeyViewer(found: Pick<ApiKeySnapshot, 'apiKey' | 'tenant' | 'user'>, now: Date): ApiKeyViewer | null {
  const { apiKey: key, tenant, user } = found;
  if (!isUsable(key, now) || user.disabledAt || tenant.disabledAt) return null;
  const creatorHolds = new Set<string>(rolePermissions(user.role));
  const permissions = new Set(key.permissions.filter((p): p is Permission => isPermission(p) && creatorHolds.has(p)));
  return { kind: 'api_key', apiKeyId: key.id, tenantId: tenant.id, tenant, user, permissions, isOwner: false };
}

/** When the key stops working if nothing changes: its expiry or the end of its rotation grace. */
export function apiKeyDeadline(key: Pick<ApiKeyView, 'expiresAt' | 'validUntil'>): Date | null {
  const ends = [key.expiresAt, key.validUntil].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime());
  return ends[0] ?? null;
}

async function reportUseAfterRevocation(services: Services, tenantId: string, key: ApiKeyView, meta: RequestMeta): Promise<void> {
  const since = new Date(services.clock.now().getTime() - REPORT_INTERVAL_SECONDS * 1000);
  const recent = await services.db.forTenant(tenantId).count(AuditEvent, { action: USED_AFTER_REVOCATION, targetId: key.id, occurredAt: { $gt: since } });
  if (recent > 0) return;
  const origin = { actorType: 'api_key' as const, actorId: key.user.id, apiKeyId: key.id, sessionId: null, ip: meta.ip, userAgent: meta.userAgent };
  await inTenantTransaction(services, { tenantId, origin, viewer: null }, ({ journal }) =>
    journal.record({ action: USED_AFTER_REVOCATION, outcome: 'denied', target: { type: 'api_key', id: key.id }, details: { prefix: key.prefix } }),
  );
}

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { sessionViewerOf } from '../context.ts';
import { failedPrecondition, forbidden, notFound } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import type { ViewerWork, Work } from '../unit-of-work.ts';
import { displayableText, parseInput } from '../validation.ts';
import { SUPPORT_SCOPES, SupportGrant } from './support-grant.entity.ts';

const HOUR = 3600_000;
/** OPERATIONS.md §2: a working day by default, three days at most. */
export const GRANT_HOURS = { default: 8, max: 72 } as const;

const GrantSchema = z.object({
  reason: displayableText(10, 500, 'Say why support needs access, in at least 10 characters.'),
  caseReference: displayableText(1, 100, 'Name the support case.'),
  scopes: z.array(z.enum(SUPPORT_SCOPES)).min(1, 'Choose what support may read.').transform((scopes) => [...new Set(scopes)]),
  hours: z.number().int().min(1).max(GRANT_HOURS.max, `At most ${GRANT_HOURS.max} hours.`).default(GRANT_HOURS.default),
});

/** The owner lets support read, for a reason and a case, for a time. Never writes: support sessions are read-only. */
export async function grantSupportAccess(work: ViewerWork, input: unknown): Promise<SupportGrant> {
  const viewer = sessionViewerOf(work);
  if (!viewer.isOwner) throw forbidden('Only the owner grants support access.');
  const { reason, caseReference, scopes, hours } = parseInput(GrantSchema, input);
  const grant = work.em.create(SupportGrant, {
    id: randomUUID(), tenant: viewer.tenantId, kind: 'grant', scopes, reason, caseReference, grantedBy: viewer.user.id,
    createdAt: work.now, approvedAt: work.now, expiresAt: new Date(work.now.getTime() + hours * HOUR),
  });
  await work.em.flush();
  await work.journal.record({
    action: 'support.granted',
    target: { type: 'support_grant', id: grant.id },
    details: { scopes, caseReference, reason, expiresAt: grant.expiresAt.toISOString() },
  });
  return grant;
}

/** Any owner or administrator, at any time: support's requests and open sockets stop at once. */
export async function revokeSupportAccess(work: ViewerWork, id: string): Promise<SupportGrant> {
  const viewer = sessionViewerOf(work);
  const grant = isUuid(id) ? await work.em.findOne(SupportGrant, id) : null;
  if (!grant) throw notFound();
  if (grant.revokedAt || work.now >= grant.expiresAt) throw failedPrecondition('The grant is no longer in force.');
  grant.revokedAt = work.now;
  grant.revokedBy = viewer.user.id;
  await work.em.flush();
  await work.journal.record({ action: 'support.revoked', target: { type: 'support_grant', id: grant.id }, details: { kind: grant.kind, caseReference: grant.caseReference } });
  work.signal({ everyone: true });
  return grant;
}

export function listSupportGrants(work: Pick<Work, 'em'>): Promise<SupportGrant[]> {
  return work.em.find(SupportGrant, {}, { orderBy: { createdAt: 'desc' } });
}

/** Break-glasses the owner has not been shown yet: shown at sign-in, until acknowledged. */
export function unseenBreakGlass(work: ViewerWork): Promise<SupportGrant[]> {
  if (!work.viewer.isOwner) return Promise.resolve([]);
  return work.em.find(SupportGrant, { kind: 'break_glass', approvedAt: { $ne: null }, ownerShownAt: null }, { orderBy: { approvedAt: 'asc' } });
}

export async function acknowledgeBreakGlass(work: ViewerWork, id: string): Promise<boolean> {
  const viewer = sessionViewerOf(work);
  if (!viewer.isOwner) throw forbidden('Only the owner acknowledges a break-glass.');
  const grant = isUuid(id) ? await work.em.findOne(SupportGrant, { id, kind: 'break_glass' }) : null;
  if (!grant) throw notFound();
  if (grant.ownerShownAt) return true;
  grant.ownerShownAt = work.now;
  await work.em.flush();
  await work.journal.record({ action: 'support.break_glass_acknowledged', target: { type: 'support_grant', id: grant.id }, details: { caseReference: grant.caseReference } });
  return true;
}

export function inForce(grant: Pick<SupportGrant, 'approvedAt' | 'revokedAt' | 'expiresAt'>, now: Date): boolean {
  return grant.approvedAt != null && grant.revokedAt == null && now < grant.expiresAt;
}

import { z } from 'zod';
import { ApiKey } from '../api-keys/api-key.entity.ts';
import { revokeApiKey } from '../api-keys/api-keys.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { actionsWhere } from '../audit/actions.ts';
import { sessionViewerOf } from '../context.ts';
import { badInput, forbidden } from '../errors.ts';
import { sessionDeadline } from '../sessions/session-judge.ts';
import { Session } from '../sessions/session.entity.ts';
import { endSessions } from '../sessions/sessions.ts';
import { isUuid } from '../tokens.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { manageableUser } from '../users/employees.ts';
import { PasswordReset } from '../users/password-reset.entity.ts';
import { User } from '../users/user.entity.ts';
import { displayableText, parseInput } from '../validation.ts';

export const LOCKDOWN_SCOPES = ['self', 'user', 'tenant'] as const;
export type LockdownScope = (typeof LOCKDOWN_SCOPES)[number];

const HISTORY_DAYS = 30;
const HISTORY_LIMIT = 500;
const SIGN_IN_ACTIONS = actionsWhere((meaning) => meaning.signIn === true);

const LockdownSchema = z.object({
  scope: z.enum(LOCKDOWN_SCOPES),
  userId: z.string().refine(isUuid, 'Choose an employee.').nullish(),
  keepCurrentSession: z.boolean().default(false),
  reason: displayableText(3, 500, 'Say what happened, in a few words.'),
});

export interface EndedSession {
  id: string;
  userId: string;
  userAgent: string | null;
  ip: string | null;
  lastSeenAt: Date;
}

export interface IncidentReport {
  scope: LockdownScope;
  userIds: string[];
  sessionsEnded: EndedSession[];
  keysRevoked: number;
  resetsVoided: number;
  /** The last 30 days of sign-ins (successes and failures) of the people in scope, newest first. */
  signIns: AuditEvent[];
  /** The journal the incident covers: from the first entry of those 30 days to the lockdown's own. */
  journalFromSeq: number;
  journalToSeq: number;
}

/**
 * The seeds' incident steps in one transaction (end every session, change the password, check the
 * sign-ins): every session in scope ends (sockets close on the signal), every API key is revoked without
 * grace, pending reset tokens are voided, the next sign-in must set a new password; and the report says
 * what was ended and what the sign-ins were. A second call ends nothing more. One incident.lockdown event.
 */
export async function lockDown(work: ViewerWork, input: unknown): Promise<IncidentReport> {
  const { scope, userId, keepCurrentSession, reason } = parseInput(LockdownSchema, input);
  const viewer = sessionViewerOf(work);
  const userIds = await usersInScope(work, scope, userId ?? null);
  const keep = keepCurrentSession && userIds.includes(viewer.user.id) ? viewer.session.id : undefined;
  const open = await work.em.find(Session, { user: { $in: userIds }, endedAt: null, ...(keep ? { id: { $ne: keep } } : {}) }, { orderBy: { lastSeenAt: 'desc' } });
  // Every open row ends; the report lists those that were still alive (an idle one was dead already).
  const sessionsEnded = open.filter((s) => sessionDeadline(s, viewer.tenant) > work.now).map((s) => ({ id: s.id, userId: s.user.id, userAgent: s.userAgent ?? null, ip: s.ip ?? null, lastSeenAt: s.lastSeenAt }));
  await endSessions(work, { ids: open.map((s) => s.id) }, 'revoked');
  const keys = await work.em.find(ApiKey, { user: { $in: userIds }, revokedAt: null });
  for (const key of keys) await revokeApiKey(work, key, 'lockdown');
  const resetsVoided = await work.em.nativeUpdate(PasswordReset, { user: { $in: userIds }, usedAt: null, revokedAt: null }, { revokedAt: work.now });
  await work.em.nativeUpdate(User, { id: { $in: userIds } }, { passwordChangeRequired: true });
  work.signal(scope === 'tenant' ? { everyone: true } : { userIds });
  const since = new Date(work.now.getTime() - HISTORY_DAYS * 24 * 60 * 60 * 1000);
  const signIns = await work.em.find(
    AuditEvent,
    { action: { $in: SIGN_IN_ACTIONS }, occurredAt: { $gte: since }, ...(scope === 'tenant' ? {} : { $or: [{ actorId: { $in: userIds } }, { targetId: { $in: userIds } }] }) },
    { orderBy: { seq: 'desc' }, limit: HISTORY_LIMIT },
  );
  const first = await work.em.findOne(AuditEvent, { occurredAt: { $gte: since } }, { orderBy: { seq: 'asc' }, fields: ['seq'] });
  const event = await work.journal.record({
    action: 'incident.lockdown',
    target: scope === 'tenant' ? { type: 'tenant', id: viewer.tenantId } : { type: 'user', id: userIds[0] },
    details: { scope, reason, users: userIds.length, sessionsEnded: sessionsEnded.length, keysRevoked: keys.length, resetsVoided, keptCurrentSession: Boolean(keep) },
  });
  return { scope, userIds, sessionsEnded, keysRevoked: keys.length, resetsVoided, signIns, journalFromSeq: first?.seq ?? event.seq, journalToSeq: event.seq };
}

/** SELF: the caller; USER: an employee they manage (users.manage, never the owner); TENANT: everyone, the owner only. */
async function usersInScope(work: ViewerWork, scope: LockdownScope, userId: string | null): Promise<string[]> {
  if (scope === 'self') return [work.viewer.user.id];
  if (scope === 'user') {
    if (!userId) throw badInput([{ field: 'userId', message: 'Choose the employee to lock down.' }]);
    return [(await manageableUser(work, userId)).id];
  }
  if (!work.viewer.isOwner) throw forbidden('Only the owner locks the whole company down.');
  return (await work.em.find(User, {}, { fields: ['id'] })).map((u) => u.id);
}

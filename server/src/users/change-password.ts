import { proveUser } from '../sessions/step-up.ts';
import { z } from 'zod';
import { rotateKeysOfUser } from '../api-keys/api-keys.ts';
import type { SessionViewer } from '../access/viewer.ts';
import { type Context, sessionViewerOf } from '../context.ts';
import { badInput } from '../errors.ts';
import { endSessions, rotateSession } from '../sessions/sessions.ts';
import { type ViewerWork, asViewer } from '../unit-of-work.ts';
import { fields, parseInput } from '../validation.ts';
import { passwordProblems } from './password-policy.ts';
import { User } from './user.entity.ts';

const ChangePasswordSchema = z.object({
  currentPassword: fields.password,
  newPassword: fields.password,
  endOtherSessions: z.boolean().default(true),
});

export interface PasswordChanged {
  token: string;
  sessionsEnded: number;
}

/**
 * Needs the current password (a stolen session alone cannot change it; wrong guesses count toward
 * the lock), ends the other sessions by default, and gives this session a new token.
 */
export async function changePassword(ctx: Context, viewer: SessionViewer, input: unknown): Promise<PasswordChanged> {
  const { services } = ctx;
  const { currentPassword, newPassword, endOtherSessions } = parseInput(ChangePasswordSchema, input);
  const problems = passwordProblems(newPassword, 'newPassword');
  if (newPassword === currentPassword) problems.push({ field: 'newPassword', message: 'Choose a password different from the current one.' });
  await proveUser(ctx, viewer, { password: currentPassword, withSecondFactor: false });
  if (problems.length) throw badInput(problems);
  const passwordHash = await services.hasher.hash(newPassword);
  return asViewer(ctx, storeNewPassword, { passwordHash, endOtherSessions });
}

/** The new password in place, the other sessions ended, this session's token rotated, the keys rotated. */
async function storeNewPassword(work: ViewerWork, { passwordHash, endOtherSessions }: { passwordHash: string; endOtherSessions: boolean }): Promise<PasswordChanged> {
  const viewer = sessionViewerOf(work);
  const { user } = viewer;
  await work.em.nativeUpdate(User, { id: user.id }, { passwordHash, passwordChangedAt: work.now, passwordChangeRequired: false });
  const ended = endOtherSessions ? await endSessions(work, { userId: user.id, exceptId: viewer.session.id }, 'password_changed') : [];
  const token = await rotateSession(work, viewer.session, viewer.tenant);
  if (!token) throw badInput([{ field: 'session', message: 'This session changed meanwhile; sign in again.' }]);
  await work.journal.record({
    action: 'user.password_changed',
    target: { type: 'user', id: user.id },
    details: { sessionsEnded: ended.length },
  });
  await rotateKeysOfUser(work, user.id, 'password_changed');
  return { token, sessionsEnded: ended.length };
}

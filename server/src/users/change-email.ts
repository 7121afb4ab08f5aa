import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { z } from 'zod';
import { rotateKeysOfUser } from '../api-keys/api-keys.ts';
import type { SessionViewer } from '../access/viewer.ts';
import { type Context, sessionViewerOf } from '../context.ts';
import { badInput, conflict } from '../errors.ts';
import { proveUser } from '../sessions/step-up.ts';
import { endSessions, rotateSession } from '../sessions/sessions.ts';
import { type ViewerWork, asViewer } from '../unit-of-work.ts';
import { fields, parseInput } from '../validation.ts';
import { User } from './user.entity.ts';

const ChangeEmailSchema = z.object({ newEmail: fields.email, currentPassword: fields.password });

export interface EmailChanged {
  email: string;
  token: string;
  sessionsEnded: number;
}

/**
 * The sign-in name changes as the seeds say a login change must: the current password first (a stolen session
 * alone cannot move the account), then the other sessions end, this one gets a new token, and the user's API
 * keys are rotated without grace (their old secrets stop at once; the new ones are revealed once each).
 */
export async function changeEmail(ctx: Context, viewer: SessionViewer, input: unknown): Promise<EmailChanged> {
  const { newEmail, currentPassword } = parseInput(ChangeEmailSchema, input);
  await proveUser(ctx, viewer, { password: currentPassword, withSecondFactor: false });
  if (newEmail === viewer.user.email.toLowerCase()) throw badInput([{ field: 'newEmail', message: 'This is your email already.' }]);
  return asViewer(ctx, storeNewEmail, newEmail);
}

async function storeNewEmail(work: ViewerWork, newEmail: string): Promise<EmailChanged> {
  const viewer = sessionViewerOf(work);
  const { user } = viewer;
  try {
    await work.em.nativeUpdate(User, { id: user.id }, { email: newEmail });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict('Someone in the company signs in with this email already.');
    throw error;
  }
  const ended = await endSessions(work, { userId: user.id, exceptId: viewer.session.id }, 'email_changed');
  const token = await rotateSession(work, viewer.session, viewer.tenant);
  if (!token) throw badInput([{ field: 'session', message: 'This session changed meanwhile; sign in again.' }]);
  await work.journal.record({ action: 'user.email_changed', target: { type: 'user', id: user.id }, details: { from: user.email, to: newEmail, sessionsEnded: ended.length } });
  await rotateKeysOfUser(work, user.id, 'email_changed');
  return { email: newEmail, token, sessionsEnded: ended.length };
}

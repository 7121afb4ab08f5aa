import type { EntityManager } from '@mikro-orm/postgresql';
import { revokeKeysOfUser } from '../api-keys/api-keys.ts';
import { rolePermissions } from '../access/permissions.ts';
import { assertCanGrant, assertNotOwnerRole, findRoleOrNotFound } from '../access/roles.ts';
import { forbidden } from '../errors.ts';
import { findUserOrNotFound, forceRotation } from '../sessions/session-management.ts';
import { endSessions } from '../sessions/sessions.ts';
import { accountKey, clearThrottle } from '../sessions/sign-in-throttle.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { User } from './user.entity.ts';

export function listUsers(em: EntityManager): Promise<User[]> {
  return em.find(User, {}, { orderBy: { createdAt: 'asc' }, populate: ['role'], limit: 1000 });
}

/** The target of an administrative action: in the tenant, not the owner, not oneself. */
export async function manageableUser(work: ViewerWork, userId: string): Promise<User> {
  const user = await findUserOrNotFound(work.em, userId);
  await work.em.populate(user, ['role']);
  if (user.id === work.viewer.user.id) throw forbidden('You cannot do this to your own account.');
  if (user.role.builtIn === 'owner') throw forbidden('The owner can only change through an ownership transfer.');
  return user;
}

export async function setUserRole(work: ViewerWork, { userId, roleId }: { userId: string; roleId: string }): Promise<User> {
  const user = await manageableUser(work, userId);
  const role = await findRoleOrNotFound(work.em, roleId);
  assertNotOwnerRole(role);
  assertCanGrant(work.viewer, rolePermissions(role), 'roleId');
  const from = user.role;
  user.role = role;
  await work.em.flush();
  await work.journal.record({
    action: 'user.role_changed',
    target: { type: 'user', id: user.id },
    details: { fromRoleId: from.id, fromRole: from.name, toRoleId: role.id, toRole: role.name, before: from.permissions, after: role.permissions },
  });
  await forceRotation(work.em, user.id);
  work.signal({ userIds: [user.id] });
  return user;
}

/** Disabling ends every session at once and revokes every API key: nothing of theirs keeps working. */
export async function disableUser(work: ViewerWork, userId: string): Promise<User> {
  const user = await manageableUser(work, userId);
  if (!user.disabledAt) {
    user.disabledAt = work.now;
    await work.em.flush();
    await work.journal.record({ action: 'user.disabled', target: { type: 'user', id: user.id }, details: { email: user.email } });
    await endSessions(work, { userId: user.id }, 'user_disabled');
    await revokeKeysOfUser(work, user.id, 'user_disabled');
    work.signal({ userIds: [user.id] });
  }
  return user;
}

export async function enableUser(work: ViewerWork, userId: string): Promise<User> {
  const user = await manageableUser(work, userId);
  if (user.disabledAt) {
    user.disabledAt = null;
    await work.em.flush();
    await work.journal.record({ action: 'user.enabled', target: { type: 'user', id: user.id }, details: { email: user.email } });
  }
  return user;
}

/** Lifts a sign-in lock on the account (not on a client address). */
export async function unlockUser(work: ViewerWork, userId: string): Promise<User> {
  const user = await findUserOrNotFound(work.em, userId);
  // The throttle table is not tenant data, so the tenant's transaction may clear it too.
  await clearThrottle(work.em, accountKey(work.viewer.tenant.slug, user.email));
  await work.journal.record({ action: 'user.unlocked', target: { type: 'user', id: user.id }, details: { email: user.email } });
  return user;
}

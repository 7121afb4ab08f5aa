import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badInput, conflict, forbidden, notFound } from '../errors.ts';
import { forceRotation } from '../sessions/session-management.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import { isUuid } from '../tokens.ts';
import type { ViewerWork, Work } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { fields, parseInput } from '../validation.ts';
import { BUILT_IN_ROLES, type BuiltInRoleKey, isPermission } from './permissions.ts';
import { Role } from './role.entity.ts';
import type { Viewer } from './viewer.ts';

/** Every tenant starts with the four built-in roles. */
export function createBuiltInRoles(em: EntityManager, tenant: Tenant, now: Date): Record<BuiltInRoleKey, Role> {
  const entries = Object.entries(BUILT_IN_ROLES).map(([key, def]) => [
    key,
    em.create(Role, {
      id: randomUUID(),
      tenant,
      name: def.name,
      description: def.description,
      permissions: [...def.permissions],
      builtIn: key,
      createdAt: now,
      updatedAt: now,
    }),
  ]);
  return Object.fromEntries(entries) as Record<BuiltInRoleKey, Role>;
}

const RoleSchema = z.object({
  name: fields.displayName,
  description: z.string().trim().max(500, 'Use at most 500 characters.').default(''),
  permissions: z.array(z.string()).max(50),
});

export async function findRoleOrNotFound(em: EntityManager, roleId: string): Promise<Role> {
  const role = isUuid(roleId) ? await em.findOne(Role, roleId) : null;
  if (!role) throw notFound();
  return role;
}

/** Nobody grants what they do not hold: the anti-escalation rule for roles, invitations and keys. */
export function assertCanGrant(viewer: Viewer, permissions: readonly string[], field = 'permissions'): void {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length) throw badInput([{ field, message: `Unknown permissions: ${unknown.join(', ')}.` }]);
  const beyond = permissions.filter((p) => !viewer.permissions.has(p as never));
  if (beyond.length) throw forbidden(`You cannot grant permissions you do not hold: ${beyond.join(', ')}.`);
}

export function assertNotOwnerRole(role: Role): void {
  if (role.builtIn === 'owner') throw forbidden('The Owner role cannot be changed or assigned here.');
}

export async function createRole(work: ViewerWork, input: unknown): Promise<Role> {
  const { viewer, now } = work;
  const data = parseInput(RoleSchema, input);
  assertCanGrant(viewer, data.permissions);
  const role = work.em.create(Role, {
    id: randomUUID(),
    tenant: viewer.tenantId,
    name: data.name,
    description: data.description,
    permissions: [...new Set(data.permissions)],
    builtIn: null,
    createdAt: now,
    updatedAt: now,
  });
  await flushUniqueName(work.em);
  await work.journal.record({ action: 'role.created', target: { type: 'role', id: role.id }, details: { name: role.name, permissions: role.permissions } });
  return role;
}

export async function updateRole(work: ViewerWork, { id, changes }: { id: string; changes: unknown }): Promise<Role> {
  const { viewer, now } = work;
  const role = await findRoleOrNotFound(work.em, id);
  assertNotOwnerRole(role);
  const data = parseInput(RoleSchema.partial(), changes);
  const before = [...role.permissions];
  if (data.permissions) {
    const added = data.permissions.filter((p) => !before.includes(p));
    assertCanGrant(viewer, added);
    role.permissions = [...new Set(data.permissions)];
  }
  if (data.name !== undefined) role.name = data.name;
  if (data.description !== undefined) role.description = data.description;
  role.updatedAt = now;
  await flushUniqueName(work.em);
  const after = role.permissions;
  await work.journal.record({
    action: 'role.updated',
    target: { type: 'role', id: role.id },
    details: {
      name: role.name,
      before,
      after,
      added: after.filter((p) => !before.includes(p)),
      removed: before.filter((p) => !after.includes(p)),
    },
  });
  await rotateHoldersOf(work, role);
  return role;
}

export async function deleteRole(work: ViewerWork, id: string): Promise<Role> {
  const role = await findRoleOrNotFound(work.em, id);
  if (role.builtIn) throw forbidden('Built-in roles cannot be deleted.');
  if ((await work.em.count(User, { role: role.id })) > 0) throw conflict('Employees still hold this role: give them another one first.');
  await work.journal.record({ action: 'role.deleted', target: { type: 'role', id: role.id }, details: { name: role.name, permissions: role.permissions } });
  work.em.remove(role);
  await work.em.flush();
  return role;
}

/** A change of rights rotates the tokens of everyone holding the role, and re-checks their live sockets. */
async function rotateHoldersOf(work: Work, role: Role): Promise<void> {
  const holders = await work.em.find(User, { role: role.id }, { fields: ['id'] });
  for (const holder of holders) await forceRotation(work.em, holder.id);
  work.signal({ everyone: true });
}

async function flushUniqueName(em: EntityManager): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict('A role with this name already exists.');
    throw error;
  }
}

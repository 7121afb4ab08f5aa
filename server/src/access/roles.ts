import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Tenant } from '../tenants/tenant.entity.ts';
import { BUILT_IN_ROLES, type BuiltInRoleKey } from './permissions.ts';
import { Role } from './role.entity.ts';

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

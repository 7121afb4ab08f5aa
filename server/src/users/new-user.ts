import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../access/role.entity.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import { User } from './user.entity.ts';

export interface NewUser {
  id: string;
  tenant: Tenant;
  email: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  now: Date;
}

/** A user as sign-up and accepted invitations create one: active, password set now, no second factor yet. */
export function createUser(em: EntityManager, { now, ...fields }: NewUser): User {
  return em.create(User, {
    ...fields,
    disabledAt: null,
    createdAt: now,
    passwordChangedAt: now,
    totpSecretEnc: null,
    totpEnabledAt: null,
    totpLastStep: null,
  });
}

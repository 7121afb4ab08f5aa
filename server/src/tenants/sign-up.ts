import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createBuiltInRoles } from '../access/roles.ts';
import type { RequestMeta } from '../context.ts';
import { badInput, conflict } from '../errors.ts';
import type { Services } from '../services.ts';
import type { SignedIn } from '../sessions/sessions.ts';
import { completeSignIn } from '../sessions/sign-in-attempt.ts';
import { SESSION_POLICY_DEFAULTS } from '../sessions/session-policy.ts';
import { passwordProblems } from '../users/password-policy.ts';
import { createUser } from '../users/new-user.ts';
import { fields, parseInput } from '../validation.ts';
import { Tenant } from './tenant.entity.ts';

const SignUpSchema = z.object({
  tenantName: fields.tenantName,
  tenantSlug: fields.tenantSlug,
  email: fields.email,
  password: fields.password,
  displayName: fields.displayName,
});

export const API_KEY_MAX_AGE_DEFAULT_DAYS = 182;

const slugTaken = () => conflict('This company address is already taken.');

/** Creates a company with its owner and signs the owner in: all of it, with its journal, or nothing. */
export async function signUp(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const data = parseInput(SignUpSchema, input);
  const problems = passwordProblems(data.password);
  if (problems.length) throw badInput(problems);
  if (await services.locators.tenantBySlug(data.tenantSlug)) throw slugTaken();
  const passwordHash = await services.hasher.hash(data.password);
  const now = services.clock.now();
  const tenantId = randomUUID();
  const userId = randomUUID();
  const em = services.db.forTenant(tenantId);
  const tenant = em.create(Tenant, {
    id: tenantId,
    slug: data.tenantSlug,
    name: data.tenantName,
    createdAt: now,
    ...SESSION_POLICY_DEFAULTS,
    apiKeyMaxAgeDays: API_KEY_MAX_AGE_DEFAULT_DAYS,
  });
  const roles = createBuiltInRoles(em, tenant, now);
  const user = createUser(em, {
    id: userId,
    tenant,
    email: data.email,
    displayName: data.displayName,
    passwordHash,
    role: roles.owner,
    now,
  });
  try {
    const issued = await completeSignIn(services, meta, {
      user,
      tenant,
      device: { byCookie: null, quiet: true },
      authMethod: 'password',
      em,
      extra: async ({ em: tx, journal }) => {
        await tx.flush();
        await journal.record({ action: 'tenant.created', target: { type: 'tenant', id: tenantId }, details: { slug: data.tenantSlug, name: data.tenantName } });
        await journal.record({ action: 'user.signed_up', target: { type: 'user', id: userId }, details: { email: data.email, role: 'owner' } });
      },
    });
    return { ...issued, user, tenant };
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw slugTaken();
    throw error;
  }
}

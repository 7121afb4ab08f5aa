import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { rolePermissions } from '../access/permissions.ts';
import { assertCanGrant, assertNotOwnerRole, findRoleOrNotFound } from '../access/roles.ts';
import type { RequestMeta } from '../context.ts';
import { ErrorCode, badInput, clientError, conflict } from '../errors.ts';
import type { Services } from '../services.ts';
import type { SignedIn } from '../sessions/sessions.ts';
import { completeSignIn } from '../sessions/sign-in-attempt.ts';
import { formatIdSecret, hashSecret, newSecret, parseIdSecret, sameHash } from '../tokens.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { fields, parseInput } from '../validation.ts';
import { Invitation } from './invitation.entity.ts';
import { passwordProblems } from './password-policy.ts';
import { createUser } from './new-user.ts';
import { User } from './user.entity.ts';

export const INVITATION_LIFETIME_SECONDS = 72 * 60 * 60;

const InviteSchema = z.object({ email: fields.email, roleId: z.string() });

/** An invitation to join with a given role; its token is returned once, for the inviter to pass on. */
export async function inviteUser(work: ViewerWork, input: unknown): Promise<{ invitation: Invitation; token: string }> {
  const { viewer, now } = work;
  const { email, roleId } = parseInput(InviteSchema, input);
  const role = await findRoleOrNotFound(work.em, roleId);
  assertNotOwnerRole(role);
  assertCanGrant(viewer, rolePermissions(role), 'roleId');
  if (await work.em.count(User, { email })) throw conflict('An employee with this email already exists.');
  // A new invitation replaces any pending one for the same address.
  await work.em.nativeUpdate(Invitation, { email, acceptedAt: null, revokedAt: null }, { revokedAt: now });
  const id = randomUUID();
  const secret = newSecret();
  const invitation = work.em.create(Invitation, {
    id,
    tenant: viewer.tenantId,
    email,
    role,
    secretHash: hashSecret(secret),
    invitedBy: viewer.user.id,
    createdAt: now,
    expiresAt: new Date(now.getTime() + INVITATION_LIFETIME_SECONDS * 1000),
    acceptedAt: null,
    acceptedUserId: null,
    revokedAt: null,
  });
  await work.em.flush();
  await work.journal.record({ action: 'user.invited', target: { type: 'invitation', id }, details: { email, roleId: role.id, role: role.name } });
  return { invitation, token: formatIdSecret({ id, secret }) };
}

const AcceptSchema = z.object({ token: z.string().max(200), password: fields.password, displayName: fields.displayName });

const invalidInvitation = () => clientError(ErrorCode.NOT_FOUND, 'This invitation does not exist, was used, or expired.');

/** Creates the employee from a valid invitation and signs them in; the invitation is used up. */
export async function acceptInvitation(services: Services, meta: RequestMeta, input: unknown): Promise<SignedIn> {
  const data = parseInput(AcceptSchema, input);
  const presented = parseIdSecret(data.token);
  const tenantId = presented ? await services.locators.tenantOfInvitation(presented.id) : null;
  if (!presented || !tenantId) throw invalidInvitation();
  const em = services.db.forTenant(tenantId);
  const invitation = await em.findOne(Invitation, presented.id, { populate: ['role', 'tenant'] });
  const now = services.clock.now();
  const valid = invitation && !invitation.acceptedAt && !invitation.revokedAt && now < invitation.expiresAt;
  if (!valid || !sameHash(hashSecret(presented.secret), invitation.secretHash)) throw invalidInvitation();
  const problems = passwordProblems(data.password);
  if (problems.length) throw badInput(problems);
  const userId = randomUUID();
  const user = createUser(em, {
    id: userId,
    tenant: invitation.tenant,
    email: invitation.email,
    displayName: data.displayName,
    passwordHash: await services.hasher.hash(data.password),
    role: invitation.role,
    now,
  });
  try {
    const issued = await completeSignIn(services, meta, {
      user,
      tenant: invitation.tenant,
      device: { byCookie: null, quiet: true },
      authMethod: 'password',
      em,
      extra: async (work) => {
        const claimed = await work.em.nativeUpdate(Invitation, { id: invitation.id, acceptedAt: null, revokedAt: null }, { acceptedAt: now, acceptedUserId: userId });
        if (claimed !== 1) throw invalidInvitation();
        await work.em.flush();
        await work.journal.record({
          action: 'user.invitation_accepted',
          actor: { type: 'user', id: userId },
          target: { type: 'user', id: userId },
          details: { invitationId: invitation.id, email: invitation.email, roleId: invitation.role.id },
        });
      },
    });
    return { ...issued, user, tenant: invitation.tenant };
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict('An employee with this email already exists.');
    throw error;
  }
}

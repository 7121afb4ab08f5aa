import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isPermission, type Permission } from '../access/permissions.ts';
import type { Viewer } from '../access/viewer.ts';
import { sessionViewerOf } from '../context.ts';
import { badInput, conflict, notFound } from '../errors.ts';
import { isUuid } from '../tokens.ts';
import type { ViewerWork, Work } from '../unit-of-work.ts';
import { fields, parseInput } from '../validation.ts';
import { ApiKey } from './api-key.entity.ts';
import { mintApiKey } from './api-key-token.ts';

export const MAX_ROTATION_GRACE_SECONDS = 24 * 60 * 60;

const CreateSchema = z.object({
  name: fields.displayName,
  permissions: z.array(z.string()).max(50),
  expiresInDays: z.number().int().min(1, 'At least one day.').max(3650, 'At most ten years.').nullish(),
});

export interface IssuedKey {
  key: ApiKey;
  /** Shown once; only its hash is kept. */
  secret: string;
}

/**
 * A key holds a subset of its creator's permissions, checked now and again at every use. Key management
 * needs a signed-in person: an API key cannot create, rotate or reveal keys.
 */
export async function createApiKey(work: ViewerWork, input: unknown): Promise<IssuedKey> {
  const viewer = sessionViewerOf(work);
  const { now } = work;
  const data = parseInput(CreateSchema, input);
  const unknown = data.permissions.filter((p) => !isPermission(p));
  const beyond = data.permissions.filter((p) => isPermission(p) && !viewer.permissions.has(p));
  if (unknown.length) throw badInput([{ field: 'permissions', message: `Unknown permissions: ${unknown.join(', ')}.` }]);
  if (beyond.length) throw badInput([{ field: 'permissions', message: `You cannot grant what you do not hold: ${beyond.join(', ')}.` }]);
  const issued = issueKey(work.em, {
    owner: { userId: viewer.user.id, tenantId: viewer.tenantId },
    name: data.name,
    permissions: [...new Set(data.permissions)] as Permission[],
    expiresAt: data.expiresInDays ? new Date(now.getTime() + data.expiresInDays * 86_400_000) : null,
    now,
  });
  await work.em.flush();
  await work.journal.record({
    action: 'api_key.created',
    target: { type: 'api_key', id: issued.key.id },
    details: { name: data.name, prefix: issued.key.prefix, permissions: issued.key.permissions, expiresAt: issued.key.expiresAt },
  });
  return issued;
}

function issueKey(
  em: EntityManager,
  args: {
    owner: { userId: string; tenantId: string };
    name: string;
    permissions: string[];
    expiresAt: Date | null;
    now: Date;
    rotatedFromId?: string;
    autoRotated?: boolean;
  },
): IssuedKey {
  const id = randomUUID();
  const { token, secretHash, prefix } = mintApiKey(id);
  const key = em.create(ApiKey, {
    id,
    tenant: args.owner.tenantId,
    user: args.owner.userId,
    name: args.name,
    prefix,
    secretHash,
    permissions: args.permissions,
    createdAt: args.now,
    expiresAt: args.expiresAt,
    lastUsedAt: null,
    lastUsedIp: null,
    revokedAt: null,
    revokeReason: null,
    rotatedFromId: args.rotatedFromId ?? null,
    rotatedToId: null,
    validUntil: null,
    autoRotated: args.autoRotated ?? false,
    pendingSecretEnc: null,
    revealedAt: null,
  });
  return { key, secret: token };
}

/** Your own key (api_keys.manage_own) or anyone's (api_keys.manage_all); otherwise, as if it did not exist. */
export async function findManageableKey(em: EntityManager, viewer: Viewer, id: string): Promise<ApiKey> {
  const key = isUuid(id) ? await em.findOne(ApiKey, id, { populate: ['user'] }) : null;
  const allowed =
    key && (viewer.permissions.has('api_keys.manage_all') || (key.user.id === viewer.user.id && viewer.permissions.has('api_keys.manage_own')));
  if (!key || !allowed) throw notFound();
  return key;
}

export function listApiKeys(em: EntityManager, viewer: Viewer, everyone: boolean): Promise<ApiKey[]> {
  const all = everyone && viewer.permissions.has('api_keys.manage_all');
  return em.find(ApiKey, all ? {} : { user: viewer.user.id }, { orderBy: { createdAt: 'desc' }, populate: ['user'], limit: 500 });
}

/** A key is usable while not revoked, not past its grace after rotation, not expired. */
export function isUsable(key: Pick<ApiKey, 'revokedAt' | 'validUntil' | 'expiresAt'>, now: Date): boolean {
  return !key.revokedAt && (!key.validUntil || now < key.validUntil) && (!key.expiresAt || now < key.expiresAt);
}

const alreadyDone = () => conflict('This key was already revoked or rotated.');

export interface Rotation {
  successor: ApiKey;
  secret: string;
}

/**
 * A successor with a new secret and the same name, permissions and lifetime; the old key keeps
 * working for graceSeconds (0: stops at once).
 */
export async function rotateApiKey(work: Work, key: ApiKey, graceSeconds: number, how: { auto?: boolean; reason?: string } = {}): Promise<Rotation> {
  const { now } = work;
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
    throw badInput([{ field: 'graceSeconds', message: `Between 0 and ${MAX_ROTATION_GRACE_SECONDS} seconds.` }]);
  }
  if (!isUsable(key, now) || key.rotatedToId) throw alreadyDone();
  const lifetime = key.expiresAt ? key.expiresAt.getTime() - key.createdAt.getTime() : null;
  const { key: successor, secret } = issueKey(work.em, {
    owner: { userId: key.user.id, tenantId: key.tenant.id },
    name: key.name,
    permissions: key.permissions,
    expiresAt: lifetime ? new Date(now.getTime() + lifetime) : null,
    now,
    rotatedFromId: key.id,
    autoRotated: how.auto,
  });
  // An automatic rotation keeps the new secret, encrypted, until the owner reveals it.
  if (how.auto) successor.pendingSecretEnc = work.services.keys.encrypt(secret);
  const validUntil = new Date(now.getTime() + graceSeconds * 1000);
  // Conditional: of two rotations racing (two instances, two clicks), exactly one wins.
  const claimed = await work.em.nativeUpdate(ApiKey, { id: key.id, rotatedToId: null, revokedAt: null }, { rotatedToId: successor.id, validUntil });
  if (claimed !== 1) throw alreadyDone();
  Object.assign(key, { rotatedToId: successor.id, validUntil });
  await work.em.flush();
  await work.journal.record({
    action: how.auto ? 'api_key.auto_rotated' : 'api_key.rotated',
    target: { type: 'api_key', id: key.id },
    details: { successorId: successor.id, prefix: successor.prefix, ownerId: key.user.id, graceSeconds, ...(how.reason ? { reason: how.reason } : {}) },
  });
  if (graceSeconds === 0) work.signal({ apiKeyIds: [key.id] });
  return { successor, secret };
}

export async function revokeApiKey(work: Work, key: ApiKey, reason = 'revoked'): Promise<ApiKey> {
  if (!key.revokedAt) {
    key.revokedAt = work.now;
    key.revokeReason = reason;
    await work.em.flush();
    await work.journal.record({ action: 'api_key.revoked', target: { type: 'api_key', id: key.id }, details: { reason, prefix: key.prefix } });
    work.signal({ apiKeyIds: [key.id] });
  }
  return key;
}

/** Rotation asked for by a person, of a key they may manage. */
export async function rotateManagedKey(work: ViewerWork, { id, graceSeconds }: { id: string; graceSeconds: number }): Promise<IssuedKey> {
  const key = await findManageableKey(work.em, sessionViewerOf(work), id);
  const { successor, secret } = await rotateApiKey(work, key, graceSeconds);
  return { key: successor, secret };
}

export async function revokeManagedKey(work: ViewerWork, id: string): Promise<ApiKey> {
  return revokeApiKey(work, await findManageableKey(work.em, work.viewer, id));
}

/** The secret of an automatically rotated key, to its owner, exactly once. */
export async function revealRotatedApiKey(work: ViewerWork, id: string): Promise<IssuedKey> {
  const viewer = sessionViewerOf(work);
  const key = isUuid(id) ? await work.em.findOne(ApiKey, { id, user: viewer.user.id }, { populate: ['user'] }) : null;
  if (!key || !key.pendingSecretEnc) throw notFound();
  const secret = work.services.keys.decrypt(key.pendingSecretEnc);
  const claimed = await work.em.nativeUpdate(ApiKey, { id: key.id, pendingSecretEnc: { $ne: null } }, { pendingSecretEnc: null, revealedAt: work.now });
  if (claimed !== 1) throw notFound();
  await work.journal.record({ action: 'api_key.revealed', target: { type: 'api_key', id: key.id } });
  return { key, secret };
}

/**
 * After the user's password changes, every key of theirs is rotated at once, with no grace (the seeds:
 * the key changes with the password); the new secrets wait for the owner to reveal them.
 */
export async function rotateKeysOfUser(work: Work, userId: string, reason: string): Promise<void> {
  const live = await work.em.find(ApiKey, { user: userId, revokedAt: null, rotatedToId: null }, { populate: ['user'] });
  for (const key of live.filter((k) => isUsable(k, work.now))) await rotateApiKey(work, key, 0, { auto: true, reason });
}

export async function revokeKeysOfUser(work: Work, userId: string, reason: string): Promise<void> {
  const live = await work.em.find(ApiKey, { user: userId, revokedAt: null });
  for (const key of live) await revokeApiKey(work, key, reason);
}

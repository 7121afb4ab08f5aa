import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { RequestMeta } from '../context.ts';
import { formatIdSecret, hashSecret, newSecret, parseIdSecret, sameHash } from '../tokens.ts';
import type { Work } from '../unit-of-work.ts';
import { type KnownDevice as KnownDeviceEntity, KnownDevice } from './known-device.entity.ts';

export interface Recognition {
  /** The device proved itself with its cookie. */
  byCookie: KnownDeviceEntity | null;
  /** A first sign-in (sign-up, accepted invitation) is not news: no new-device event. */
  quiet?: boolean;
}

/** The browser's device cookie, if it is one of this user's known devices. */
export async function recognizeDevice(em: EntityManager, userId: string, meta: RequestMeta): Promise<Recognition> {
  const presented = parseIdSecret(meta.deviceToken);
  if (!presented) return { byCookie: null };
  const device = await em.findOne(KnownDevice, { id: presented.id, user: userId });
  return { byCookie: device && sameHash(hashSecret(presented.secret), device.secretHash) ? device : null };
}

/**
 * Records the device of a successful sign-in. Returns a new device cookie when the client has none,
 * and journals `session.new_device` when neither the cookie nor the address/agent pair was known.
 */
export async function rememberDevice(work: Work, owner: { tenantId: string; userId: string }, meta: RequestMeta, known: Recognition, now: Date): Promise<string | null> {
  if (known.byCookie) {
    await work.em.nativeUpdate(KnownDevice, { id: known.byCookie.id }, { lastSeenAt: now, ip: meta.ip, userAgent: truncate(meta.userAgent) });
    return null;
  }
  const seenFromHere = known.quiet || (await work.em.count(KnownDevice, { user: owner.userId, ip: meta.ip, userAgent: truncate(meta.userAgent) })) > 0;
  const id = randomUUID();
  const secret = newSecret();
  work.em.create(KnownDevice, {
    id,
    tenant: owner.tenantId,
    user: owner.userId,
    secretHash: hashSecret(secret),
    ip: meta.ip,
    userAgent: truncate(meta.userAgent),
    firstSeenAt: now,
    lastSeenAt: now,
  });
  if (!seenFromHere) {
    await work.journal.record({
      action: 'session.new_device',
      actor: { type: 'user', id: owner.userId },
      target: { type: 'user', id: owner.userId },
      details: { deviceId: id },
    });
  }
  return formatIdSecret({ id, secret });
}

function truncate(userAgent: string | null): string | null {
  return userAgent?.slice(0, 512) ?? null;
}

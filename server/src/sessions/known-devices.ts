import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { RequestMeta } from '../context.ts';
import { formatIdSecret, hashSecret, newSecret, parseIdSecret, sameHash } from '../tokens.ts';
import type { Work } from '../unit-of-work.ts';
import type { User } from '../users/user.entity.ts';
import { type KnownDevice as KnownDeviceEntity, KnownDevice } from './known-device.entity.ts';

export interface Recognition {
  /** The device proved itself with its cookie. */
  byCookie: KnownDeviceEntity | null;
  /** Seen before from the same address with the same user agent, but without the cookie. */
  byAddress: boolean;
}

export async function recognizeDevice(em: EntityManager, user: User, meta: RequestMeta): Promise<Recognition> {
  const presented = parseIdSecret(meta.deviceToken);
  if (presented) {
    const device = await em.findOne(KnownDevice, { id: presented.id, user: user.id });
    if (device && sameHash(hashSecret(presented.secret), device.secretHash)) return { byCookie: device, byAddress: false };
  }
  const seen = await em.count(KnownDevice, { user: user.id, ip: meta.ip, userAgent: truncate(meta.userAgent) });
  return { byCookie: null, byAddress: seen > 0 };
}

/**
 * Records the device of a successful sign-in. Returns a new device cookie when the client has none,
 * and journals `session.new_device` when neither the cookie nor the address/agent pair was known.
 */
export async function rememberDevice(work: Work, user: User, meta: RequestMeta, known: Recognition, now: Date): Promise<string | null> {
  if (known.byCookie) {
    known.byCookie.lastSeenAt = now;
    known.byCookie.ip = meta.ip;
    known.byCookie.userAgent = truncate(meta.userAgent);
    return null;
  }
  const id = randomUUID();
  const secret = newSecret();
  work.em.create(KnownDevice, {
    id,
    tenant: user.tenant,
    user,
    secretHash: hashSecret(secret),
    ip: meta.ip,
    userAgent: truncate(meta.userAgent),
    firstSeenAt: now,
    lastSeenAt: now,
  });
  if (!known.byAddress) {
    await work.journal.record({
      action: 'session.new_device',
      actor: { type: 'user', id: user.id },
      target: { type: 'user', id: user.id },
      details: { deviceId: id },
    });
  }
  return formatIdSecret({ id, secret });
}

function truncate(userAgent: string | null): string | null {
  return userAgent?.slice(0, 512) ?? null;
}

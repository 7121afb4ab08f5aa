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
 * Records the device of a successful sign-in. Returns a device cookie when the client has none, and
 * journals `session.new_device` when neither the cookie nor the address/agent pair was known.
 */
export async function rememberDevice(work: Work, owner: { tenantId: string; userId: string }, meta: RequestMeta, known: Recognition, now: Date): Promise<string | null> {
  if (known.byCookie) {
    await work.em.nativeUpdate(KnownDevice, { id: known.byCookie.id }, { lastSeenAt: now, ip: meta.ip, userAgent: truncate(meta.userAgent) });
    return null;
  }
  const secret = newSecret();
  // Known from here but without its cookie (cleared, or a client that keeps none): a fresh cookie for
  // that device rather than a new row per sign-in. One statement finds and updates it.
  const [again] = await work.em.execute<Array<{ id: string }>>(
    `update known_device set secret_hash = ?, last_seen_at = ?
     where id = (select id from known_device where user_id = ? and ip is not distinct from ? and user_agent is not distinct from ? limit 1)
     returning id`,
    [hashSecret(secret), now, owner.userId, meta.ip, truncate(meta.userAgent)],
  );
  if (again) return formatIdSecret({ id: again.id, secret });
  const id = randomUUID();
  await work.em.insert(KnownDevice, {
    id,
    tenant: owner.tenantId,
    user: owner.userId,
    secretHash: hashSecret(secret),
    ip: meta.ip,
    userAgent: truncate(meta.userAgent),
    firstSeenAt: now,
    lastSeenAt: now,
  });
  if (!known.quiet) {
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

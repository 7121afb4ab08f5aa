import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestMeta } from '../context.ts';
import { hashSecret, parseIdSecret, sameHash } from '../tokens.ts';
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

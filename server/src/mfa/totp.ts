import type { EntityData, EntityManager, EntityName, FilterQuery } from '@mikro-orm/postgresql';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export async function totpEnrollment(secret: string, issuer: string, label: string) {
  const uri = generateURI({ issuer, label, secret });
  return { uri, qrCodeSvg: await QRCode.toString(uri, { type: 'svg', margin: 1 }) };
}

/**
 * Accepts a code for the current step or one step either side, and only for a step later than the
 * last one accepted, so an observed code cannot be replayed. Returns the accepted step, or null.
 */
/** An entity that holds a TOTP secret and the last step it accepted. */
type StepHolder = { id: string; totpLastStep?: number | null };

/**
 * Claims an accepted step for its holder (a user, an operator) with one conditional write, in the
 * transaction that acts on the proof: of two requests racing with one code, one claims it.
 */
export async function claimTotpStep<T extends StepHolder>(em: EntityManager, holder: EntityName<T>, id: string, step: number): Promise<boolean> {
  const unclaimed = { id, $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] } as unknown as FilterQuery<T>;
  const advanced = await em.nativeUpdate(holder, unclaimed, { totpLastStep: step } as unknown as EntityData<T>);
  return advanced === 1;
}

export async function acceptTotp(secret: string, code: string, now: Date, lastStep: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(lastStep === null ? {} : { afterTimeStep: lastStep }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

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

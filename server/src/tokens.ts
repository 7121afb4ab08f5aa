import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL-safe: the secret half of every credential Vigil issues. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Credentials are stored only as SHA-256: they are 256-bit random, so no slow hash is needed. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A credential of the form `<id>.<secret>`: the id locates the row, the secret proves possession. */
export interface IdSecret {
  id: string;
  secret: string;
}

export function formatIdSecret({ id, secret }: IdSecret): string {
  return `${id}.${secret}`;
}

/** Returns null for anything that is not exactly `<uuid>.<43 base64url chars>`. */
export function parseIdSecret(token: string | undefined | null): IdSecret | null {
  if (!token || token.length !== 36 + 1 + 43) return null;
  const id = token.slice(0, 36);
  const secret = token.slice(37);
  return token[36] === '.' && UUID.test(id) && SECRET.test(secret) ? { id, secret } : null;
}

/**
 * A credential that names its realm in its form, `<prefix><id>.<secret>` (operators' `vop_`, support's `vsp_`):
 * no endpoint reads another realm's token as its own. Minted with the hash to store; read back to the row's
 * id and the presented secret's hash.
 */
export function mintPrefixed(prefix: string, id: string): { token: string; secretHash: string } {
  const secret = newSecret();
  return { token: `${prefix}${formatIdSecret({ id, secret })}`, secretHash: hashSecret(secret) };
}

export function readPrefixed(prefix: string, token: string | null | undefined): { id: string; secretHash: string } | null {
  if (!token?.startsWith(prefix)) return null;
  const parsed = parseIdSecret(token.slice(prefix.length));
  return parsed ? { id: parsed.id, secretHash: hashSecret(parsed.secret) } : null;
}

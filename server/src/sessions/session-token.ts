import { formatIdSecret, hashSecret, newSecret, parseIdSecret } from '../tokens.ts';

/** A fresh session credential: the token goes to the client once, only the hash to the database. */
export function mintSessionSecret(sessionId: string): { token: string; secretHash: string } {
  const secret = newSecret();
  return { token: formatIdSecret({ id: sessionId, secret }), secretHash: hashSecret(secret) };
}

/** `<sessionId>.<secret>`; anything else is no token at all. */
export function readSessionToken(token: string | null | undefined): { sessionId: string; secretHash: string } | null {
  const parsed = parseIdSecret(token);
  return parsed ? { sessionId: parsed.id, secretHash: hashSecret(parsed.secret) } : null;
}

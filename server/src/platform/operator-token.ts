import { formatIdSecret, hashSecret, newSecret, parseIdSecret } from '../tokens.ts';

/** Operators' tokens carry their realm in their form: `vop_<sessionId>.<secret>`, which /graphql never reads as its own. */
const PREFIX = 'vop_';

export function mintOperatorToken(sessionId: string): { token: string; secretHash: string } {
  const secret = newSecret();
  return { token: `${PREFIX}${formatIdSecret({ id: sessionId, secret })}`, secretHash: hashSecret(secret) };
}

export function readOperatorToken(token: string | null | undefined): { sessionId: string; secretHash: string } | null {
  if (!token?.startsWith(PREFIX)) return null;
  const parsed = parseIdSecret(token.slice(PREFIX.length));
  return parsed ? { sessionId: parsed.id, secretHash: hashSecret(parsed.secret) } : null;
}

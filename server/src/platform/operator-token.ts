import { mintPrefixed, readPrefixed } from '../tokens.ts';

/** Operators' tokens carry their realm in their form: `vop_<sessionId>.<secret>`, which /graphql never reads as its own. */
const PREFIX = 'vop_';

export function mintOperatorToken(sessionId: string): { token: string; secretHash: string } {
  return mintPrefixed(PREFIX, sessionId);
}

export function readOperatorToken(token: string | null | undefined): { sessionId: string; secretHash: string } | null {
  const read = readPrefixed(PREFIX, token);
  return read && { sessionId: read.id, secretHash: read.secretHash };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { publishedSigningKeys } from '../audit/signing-keys.ts';
import { ErrorCode } from '../errors.ts';
import type { Services } from '../services.ts';
import { sendError } from './respond.ts';

/**
 * GET /.well-known/vigil-audit-keys.json: the platform's checkpoint keys with their validity, for anyone
 * (they are public keys): a company fetches them once, keeps them, and checks its evidence bundles against
 * them (vigil-verify --keys), so that a bundle never vouches for its own keys.
 */
export function auditKeysRoute(services: Services) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET.');
    const keys = await publishedSigningKeys(services.db.unscoped());
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'public, max-age=300', 'Access-Control-Allow-Origin': '*' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ algorithm: 'Ed25519', signs: 'audit checkpoints (RFC 8785 JSON of tenantId, seq, hash, time, previousSignature, keyId)', keys }, null, 2));
  };
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { createPublicKey } from 'node:crypto';
import type { PublishedKey } from 'vigil-verify';
import { ConfigError } from '../config-error.ts';
import type { ServerKeys } from '../server-keys.ts';
import { AuditSigningKey } from './signing-key.entity.ts';

/**
 * How long a retired key still counts after the first start that retired it: instances of a rolling
 * deploy not yet replaced go on signing with it meanwhile, and a rollback within it takes the key back.
 */
export const ROLLOUT_GRACE_MS = 60 * 60 * 1000;

export const AUDIT_KEYS_PATH = '/.well-known/vigil-audit-keys.json';

export type PublishedSigningKey = Required<PublishedKey> & { algorithm: 'Ed25519'; jwk: Record<string, unknown> };

/**
 * What the owner's connection records as Vigil opens the database (DatabaseOptions.afterMigrations): the
 * current key from the first start that signs with it (or from the beginning, for the key of a journal older
 * than this record), and each retired key until its retirement plus the grace. Under a table lock: instances
 * starting together record one validity.
 */
export function recordSigningKeys(keys: Pick<ServerKeys, 'auditSigningKeyId' | 'auditVerifyKeys'>, now: () => Date): (owner: EntityManager) => Promise<void> {
  return (owner) =>
    owner.transactional(async (em) => {
      await em.execute('lock table audit_signing_key in exclusive mode');
      const at = now();
      const known = new Map((await em.find(AuditSigningKey, {})).map((row) => [row.keyId, row] as const));
      const firstRecord = known.size === 0;
      for (const [keyId, key] of keys.auditVerifyKeys) {
        const current = keyId === keys.auditSigningKeyId;
        const row = known.get(keyId);
        if (!row) {
          const publicKeyPem = key.export({ type: 'spki', format: 'pem' }).toString();
          em.create(AuditSigningKey, { keyId, publicKeyPem, notBefore: current && !firstRecord ? at : null, notAfter: current ? null : retiredFrom(at), recordedAt: at });
        } else if (!current && !row.notAfter) row.notAfter = retiredFrom(at);
        else if (current && row.notAfter) takeBack(row, at);
      }
    });
}

const retiredFrom = (at: Date) => new Date(at.getTime() + ROLLOUT_GRACE_MS);

/** A rollback within the grace signs with the key again; past it, a retired key never signs again. */
function takeBack(row: AuditSigningKey, at: Date): void {
  if (row.notAfter! <= at) {
    throw new ConfigError(
      `Refusing to start: AUDIT_SIGNING_KEY_FILE holds key ${row.keyId}, retired at ${row.notAfter!.toISOString()}; checkpoints it signs now would not verify. Generate a new key (npm run keys:generate -- <dir>)`,
    );
  }
  row.notAfter = null;
}

/** The keys as published, oldest first, each with its validity in ISO 8601 (null: open). */
export async function publishedSigningKeys(em: EntityManager): Promise<PublishedSigningKey[]> {
  const rows = await em.find(AuditSigningKey, {}, { orderBy: { recordedAt: 'asc', keyId: 'asc' } });
  return rows.map((row) => ({
    id: row.keyId,
    algorithm: 'Ed25519',
    publicKeyPem: row.publicKeyPem,
    jwk: publicJwk(row.publicKeyPem),
    notBefore: row.notBefore?.toISOString() ?? null,
    notAfter: row.notAfter?.toISOString() ?? null,
  }));
}

function publicJwk(pem: string): Record<string, unknown> {
  return createPublicKey(pem).export({ format: 'jwk' }) as Record<string, unknown>;
}

import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * A key whose checkpoints count, with the period they count in: what /.well-known/vigil-audit-keys.json
 * publishes. Written only by the owner's connection as Vigil opens the database (signing-keys.ts); the
 * application reads it.
 */
export const AuditSigningKey = defineEntity({
  name: 'AuditSigningKey',
  tableName: 'audit_signing_key',
  properties: {
    keyId: p.text().primary(),
    publicKeyPem: p.text(),
    notBefore: p.datetime().nullable(),
    notAfter: p.datetime().nullable(),
    recordedAt: p.datetime(),
  },
});

export type AuditSigningKey = InstanceType<typeof AuditSigningKey.class>;

import canonicalize from 'canonicalize';
import { type KeyObject, sign, verify } from 'node:crypto';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { tenantRowCounts } from '../critical-ops/purge.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { BackupServices } from './backup-services.ts';

/** One journal as it stood when the copy was taken: what a restore of it must show again. */
export interface TenantState {
  tenantId: string;
  /** Rows per tenant table; null for the platform, whose journal is its only tenant-keyed data. */
  counts: Record<string, number> | null;
  headSeq: number | null;
  headHash: string | null;
}

export interface BackupManifest {
  backupId: string;
  mode: string;
  takenAt: string;
  tenants: TenantState[];
}

export interface SignedManifest {
  manifest: BackupManifest;
  keyId: string;
  signature: string;
}

/**
 * Read just before the copy starts, each journal in its own transaction: a copy taken after can only hold
 * as much or more (heads equal or extend, counts grow), which is what the drill checks against.
 */
export async function collectManifest(services: BackupServices, backupId: string, mode: string): Promise<BackupManifest> {
  const tenants: TenantState[] = [];
  for (const tenantId of [PLATFORM_TENANT_ID, ...(await services.locators.allTenantIds())]) {
    tenants.push(await tenantState(services, tenantId));
  }
  return { backupId, mode, takenAt: services.clock.now().toISOString(), tenants };
}

export async function tenantState(services: Pick<BackupServices, 'db'>, tenantId: string): Promise<TenantState> {
  return services.db.forTenant(tenantId).transactional(async (em) => {
    const head = await em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] });
    const counts = tenantId === PLATFORM_TENANT_ID ? null : await tenantRowCounts(em, tenantId);
    return { tenantId, counts, headSeq: head?.seq ?? null, headHash: head?.hash ?? null };
  });
}

const bytesOf = (manifest: BackupManifest) => Buffer.from(canonicalize(manifest) ?? '');

export function signManifest(manifest: BackupManifest, signer: { key: KeyObject; keyId: string }): SignedManifest {
  return { manifest, keyId: signer.keyId, signature: sign(null, bytesOf(manifest), signer.key).toString('base64') };
}

export function manifestSignatureValid(signed: SignedManifest, keys: ReadonlyMap<string, KeyObject>): boolean {
  const key = keys.get(signed.keyId);
  return Boolean(key) && verify(null, bytesOf(signed.manifest), key!, Buffer.from(signed.signature, 'base64'));
}

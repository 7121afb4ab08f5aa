import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import { type PurgeReceipt, receiptSignatureValid } from './purge.ts';

/**
 * A purge's signed receipt as it is kept outside the database, beside the checkpoint trail (this instance's
 * directory, and the external bucket when there is one): a restored copy older than the purge still holds
 * the company, and these are what remove it again (reapply-purges.ts).
 */
export interface KeptPurgeReceipt {
  receipt: PurgeReceipt;
  signature: string;
  keyId: string;
}

/** What was read, and where from (a malformed one is named by its place). */
export interface KeptEntry {
  source: string;
  entry: unknown;
}

type ReceiptPlaces = Pick<Config, 'checkpointsDir' | 'offsite'>;

const RECEIPTS = 'purges';
export const offsitePurgeKey = (tenantId: string) => `${RECEIPTS}/${tenantId}.json`;
const localDir = (config: ReceiptPlaces) => join(config.checkpointsDir, RECEIPTS);

/** The receipts kept: the bucket's when there is one (what a restore after losing the servers has), else this instance's. */
export async function keptPurgeReceipts(config: ReceiptPlaces): Promise<KeptEntry[]> {
  const store = offsiteStore(config);
  if (store) return Promise.all((await store.list(`${RECEIPTS}/`)).map(async (key) => ({ source: `${store.where}${key}`, entry: parsed(await store.getText(key)) })));
  const dir = localDir(config);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ source: join(dir, name), entry: parsed(readFileSync(join(dir, name), 'utf8')) }));
}

/**
 * Every receipt of the platform journal that is not kept yet is kept now: called after each purge and before
 * each drill, so a purge whose copy out failed (the bucket down, the instance gone) is kept at the next one.
 * The bucket is only added to: a receipt already there is never written again.
 */
export async function keepJournalledPurgeReceipts(services: { config: ReceiptPlaces; db: Database }): Promise<number> {
  const kept = new Set((await keptPurgeReceipts(services.config)).map(({ entry }) => (entry as Partial<KeptPurgeReceipt> | null)?.receipt?.tenantId));
  const events = await services.db.forTenant(PLATFORM_TENANT_ID).find(AuditEvent, { action: 'critical_operation.purged' }, { fields: ['details'], orderBy: { seq: 'asc' } });
  let added = 0;
  for (const { details } of events) {
    const { receipt, signature, keyId } = details as Partial<KeptPurgeReceipt>;
    if (!receipt?.tenantId || kept.has(receipt.tenantId)) continue;
    await keepReceipt(services.config, { receipt, signature: signature ?? '', keyId: keyId ?? '' });
    kept.add(receipt.tenantId);
    added += 1;
  }
  return added;
}

async function keepReceipt(config: ReceiptPlaces, kept: KeptPurgeReceipt): Promise<void> {
  const text = JSON.stringify(kept);
  mkdirSync(localDir(config), { recursive: true, mode: 0o700 });
  writeFileSync(join(localDir(config), `${kept.receipt.tenantId}.json`), text, { mode: 0o600 });
  await offsiteStore(config)?.putText(offsitePurgeKey(kept.receipt.tenantId), text);
}

/** Why a kept receipt may not be applied (malformed, or not signed by a key of the published set), or null. */
export function receiptProblem(entry: unknown, verifyKeys: ReadonlyMap<string, KeyObject>): string | null {
  const { receipt, signature, keyId } = (entry ?? {}) as Partial<KeptPurgeReceipt>;
  if (!receipt?.tenantId || !receipt.operationId || !receipt.counts || typeof signature !== 'string') return 'it is not a purge receipt';
  if (receipt.tenantId === PLATFORM_TENANT_ID) return 'it names the platform journal';
  const key = typeof keyId === 'string' ? verifyKeys.get(keyId) : undefined;
  if (!key) return `it is signed by key ${keyId || '(none)'}, which is not in the published set`;
  return receiptSignatureValid(receipt, signature, key) ? null : 'its signature does not verify';
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

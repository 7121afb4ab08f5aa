import { createHash, createPublicKey } from 'node:crypto';
import type { AuditRecord } from './feed.ts';
import { GENESIS_HASH, canonicalAroundSeq } from './chain.ts';
import { type Checkpoint, verifiedTrail } from './checkpoints.ts';

/** What a company downloads to check its journal without Vigil: `auditTrail` (its signed checkpoints and the public keys). */
export interface PublishedTrail {
  tenantId: string;
  checkpoints: Array<Omit<Checkpoint, 'tenantId'> & { tenantId?: string }>;
  keys: Array<{ id: string; publicKeyPem: string }>;
}

/** One line of a JSONL export (`exportAuditEvents`), as JSON parsed it. */
export type ExportedEvent = Omit<AuditRecord, 'tenantId' | 'occurredAt'> & { occurredAt: string };

export interface OfflineReport {
  ok: boolean;
  events: number;
  checkedFromSeq: number | null;
  checkedToSeq: number | null;
  firstBadSeq: number | null;
  problem: string | null;
  /** The latest signed checkpoint the export was held to. */
  lastCheckpoint: { seq: number; time: string } | null;
}

/**
 * A journal verified from an unfiltered export alone, the way vigil_chain_hash links it (SHA-256 over the
 * previous hash and the event's RFC 8785 JSON), held to the published checkpoints: each signed by a published
 * key and linked to the one before, each naming the hash the export has at its seq, the last not beyond the
 * export's end (a cut tail).
 */
export function verifyExport(events: ExportedEvent[], trail: PublishedTrail): OfflineReport {
  const report = (problem: string | null, firstBadSeq: number | null = null, lastCheckpoint: Checkpoint | null = null): OfflineReport => ({
    ok: problem === null,
    events: events.length,
    checkedFromSeq: events[0]?.seq ?? null,
    checkedToSeq: events.at(-1)?.seq ?? null,
    firstBadSeq,
    problem,
    lastCheckpoint: lastCheckpoint && { seq: lastCheckpoint.seq, time: lastCheckpoint.time },
  });
  const keys = new Map(trail.keys.map(({ id, publicKeyPem }) => [id, createPublicKey(publicKeyPem)] as const));
  // As published, a checkpoint does not repeat the company it is of: it is the trail's, and signed as such.
  const checked = verifiedTrail(trail.checkpoints.map((checkpoint) => ({ ...checkpoint, tenantId: trail.tenantId })), keys, trail.tenantId);
  if (checked.problem) return report(`the trail: ${checked.problem}`);
  const hashes = new Map<number, string>();
  let previous = events[0]?.seq === 1 ? GENESIS_HASH : (events[0]?.prevHash ?? GENESIS_HASH);
  for (const [index, event] of events.entries()) {
    const expectedSeq = (events[0]?.seq ?? 1) + index;
    if (event.seq !== expectedSeq) return report(`seq ${expectedSeq} is missing from the export (verify an export without a filter)`, expectedSeq);
    if (event.prevHash !== previous || chainHash(previous, trail.tenantId, event) !== event.hash) return report(`event ${event.seq} was altered`, event.seq);
    hashes.set(event.seq, event.hash);
    previous = event.hash;
  }
  let last: Checkpoint | null = null;
  for (const checkpoint of checked.valid) {
    const hash = hashes.get(checkpoint.seq);
    if (hash === undefined && checkpoint.seq > (events.at(-1)?.seq ?? 0)) return report(`the export ends at seq ${events.at(-1)?.seq ?? 0}, before the checkpoint signed at seq ${checkpoint.seq}`, (events.at(-1)?.seq ?? 0) + 1, last);
    if (hash !== undefined && hash !== checkpoint.hash) return report(`event ${checkpoint.seq} is not the one the checkpoint signed`, checkpoint.seq, last);
    last = checkpoint;
  }
  return report(null, null, last);
}

function chainHash(previous: string, tenantId: string, { seq, prevHash: _prev, hash: _hash, ...fields }: ExportedEvent): string {
  const { prefix, suffix } = canonicalAroundSeq({ ...fields, tenantId, occurredAt: new Date(fields.occurredAt) });
  return createHash('sha256').update(`${previous}${prefix}${seq}${suffix}`, 'utf8').digest('hex');
}

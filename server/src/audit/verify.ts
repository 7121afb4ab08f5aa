import type { EntityManager } from '@mikro-orm/postgresql';
import { runsItsFile } from '../db/functions.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { type ChainedFields, GENESIS_HASH, canonicalAroundSeq } from './chain.ts';
import type { Checkpoint, CheckpointTrail } from './checkpoints.ts';
import { fromEntity } from './feed.ts';
import { SYSTEM_ORIGIN } from './journal.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

const BATCH = 1_000;

export interface ChainReport {
  ok: boolean;
  checkedFromSeq: number;
  checkedToSeq: number;
  /** The first seq that is missing, altered, out of place, or cut off after a checkpoint. */
  firstBadSeq: number | null;
  problem: string | null;
  lastCheckpoint: Checkpoint | null;
}

/**
 * Recomputes a tenant's hash chain from the rows and compares it with the signed checkpoints.
 * Detects an edited row (hash), a deleted row (gap), reordered rows (seq or link), a truncated tail
 * (a checkpoint beyond the head) and a chain rewritten consistently (a checkpoint's hash differs); and
 * it refuses to vouch for anything when the chain function itself is not the one in db/functions/.
 */
export async function verifyChain(em: EntityManager, trail: CheckpointTrail, range: { fromSeq?: number | null; toSeq?: number | null } = {}): Promise<ChainReport> {
  const anchor = await journalAnchor(em);
  // Past the retention, the journal starts after its anchor, and only a signed checkpoint makes an anchor.
  const fromSeq = Math.max(1, (anchor?.seq ?? 0) + 1, range.fromSeq ?? 1);
  const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  const checkpoints = new Map(trail.valid.map((c) => [c.seq, c]));
  const lastCheckpoint = trail.valid.at(-1) ?? null;
  const report = (checkedToSeq: number, firstBadSeq: number | null, problem: string | null): ChainReport => ({
    ok: firstBadSeq === null && problem === null,
    checkedFromSeq: fromSeq,
    checkedToSeq,
    firstBadSeq,
    problem,
    lastCheckpoint,
  });

  if (!(await runsItsFile(em, 'vigil_chain_hash'))) return report(fromSeq - 1, null, 'vigil_chain_hash is not the function Vigil ships: the links cannot be checked');
  if (anchor && !trail.valid.some((c) => c.seq === anchor.seq && c.hash === anchor.hash)) {
    return report(anchor.seq, anchor.seq, `the journal starts after seq ${anchor.seq}, and no signed checkpoint names that anchor`);
  }
  let previousHash =
    fromSeq === 1 ? GENESIS_HASH : anchor && fromSeq === anchor.seq + 1 ? anchor.hash : ((await em.findOne(AuditEvent, { seq: fromSeq - 1 }, { fields: ['hash'] }))?.hash ?? null);
  if (previousHash === null) return report(fromSeq - 1, fromSeq - 1, 'the event before the range is missing');
  let expected = fromSeq;
  let lastMatchedCheckpoint = 0;
  for (;;) {
    const rows = await em.find(AuditEvent, { seq: { $gte: expected, $lte: toSeq } }, { orderBy: { seq: 'asc' }, limit: BATCH });
    const links = await chainLinks(em, rows.map((row) => fromEntity(row)));
    for (const [i, row] of rows.entries()) {
      if (row.seq !== expected) return report(expected - 1, expected, `event ${expected} is missing`);
      if (row.prevHash !== previousHash) return report(expected - 1, expected, `event ${expected} does not follow event ${expected - 1}`);
      const { hash } = row;
      if (links[i] !== hash) return report(expected - 1, expected, `event ${expected} was altered`);
      const checkpoint = checkpoints.get(row.seq);
      if (checkpoint && checkpoint.hash !== hash) {
        // The chain is consistent but not the one that was signed: it was rewritten after the last good checkpoint.
        const from = Math.max(lastMatchedCheckpoint + 1, fromSeq);
        return report(from - 1, from, `events ${from} to ${row.seq} were rewritten after checkpoint ${lastMatchedCheckpoint}`);
      }
      if (checkpoint) lastMatchedCheckpoint = row.seq;
      previousHash = hash;
      expected += 1;
    }
    em.clear();
    if (rows.length < BATCH) break;
  }
  const head = expected - 1;
  if (trail.problem) return report(head, null, trail.problem);
  if (lastCheckpoint && lastCheckpoint.seq > head && toSeq >= lastCheckpoint.seq) {
    return report(head, head + 1, `events ${head + 1} to ${lastCheckpoint.seq} were signed in a checkpoint but are gone`);
  }
  return report(head, null, null);
}

/**
 * What each row's hash must be, given the previous hash it names: computed by vigil_chain_hash, the one
 * implementation appending uses too, over the canonical JSON of the row as stored.
 */
async function chainLinks(em: EntityManager, rows: Array<ChainedFields & { prevHash: string; hash: string }>): Promise<string[]> {
  if (!rows.length) return [];
  const links = rows.map(({ prevHash, hash: _stored, seq, ...fields }) => ({ prev: prevHash, seq, ...canonicalAroundSeq(fields) }));
  const computed = await em.execute<{ hash: string }[]>(
    `select vigil_chain_hash(x->>'prev', x->>'prefix', (x->>'seq')::bigint, x->>'suffix') as hash
       from jsonb_array_elements(?::jsonb) with ordinality as t(x, n) order by n`,
    [JSON.stringify(links)],
  );
  return computed.map((row) => row.hash);
}

/**
 * A verification that failed is itself journalled (the chain goes on from its head), as the system's
 * finding rather than the asker's: a support reader's or an auditor's read-only question still leaves it, and
 * the detector turns it into a critical alert (alerts/detectors.ts).
 */
export async function journalBrokenChain(services: Services, tenantId: string, report: ChainReport): Promise<void> {
  if (report.ok) return;
  await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, ({ journal }) =>
    journal.record({ action: 'audit.chain_verification_failed', outcome: 'failure', details: { firstBadSeq: report.firstBadSeq, problem: report.problem, checkedFromSeq: report.checkedFromSeq, checkedToSeq: report.checkedToSeq } }),
  );
}

/** Where a journal starts once its retention removed older events: the signed checkpoint it was cut at. */
export async function journalAnchor(em: EntityManager): Promise<{ seq: number; hash: string } | null> {
  const tenant = await em.findOne(Tenant, {}, { fields: ['journalAnchorSeq', 'journalAnchorHash'] });
  return tenant?.journalAnchorHash ? { seq: tenant.journalAnchorSeq, hash: tenant.journalAnchorHash } : null;
}

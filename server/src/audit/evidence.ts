import type { EntityManager } from '@mikro-orm/postgresql';
import { BUNDLE_FORMAT, type BundleHeader } from 'vigil-verify';
import { z } from 'zod';
import { badInput } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ViewerWork } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { AuditEvent } from './audit-event.entity.ts';
import type { AuditExport } from './audit-export.entity.ts';
import { GENESIS_HASH } from './chain.ts';
import { type Checkpoint, readCheckpoints } from './checkpoints.ts';
import { type ExportSelection, issueTicket } from './export.ts';
import { TrailUnreachable, catchUpTrail } from './shared-trail.ts';
import { publishedSigningKeys } from './signing-keys.ts';
import { journalAnchor } from './verify.ts';

/**
 * An evidence bundle (issue 17): what a company needs to prove its journal to itself, or to an auditor,
 * without trusting Vigil. The events of a seq range, each as the RFC 8785 JSON the chain hashes with its
 * link; the signed checkpoints from the last before the range to the first at or after its end; the
 * platform's public keys. `vigil-verify bundle.jsonl` (verifier/) checks it offline.
 */
const RangeSchema = z.object({
  fromSeq: z.number().int().min(1).nullish(),
  toSeq: z.number().int().min(1).nullish(),
});

export interface EvidenceRange {
  fromSeq: number;
  toSeq: number;
}

/** The ticket of a bundle, its range fixed now: "up to the end" means the journal's end as asked. */
export async function prepareEvidence(work: ViewerWork, input: z.input<typeof RangeSchema>): Promise<AuditExport> {
  const parsed = parseInput(RangeSchema, input);
  const head = (await work.em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] }))?.seq ?? 0;
  const start = ((await journalAnchor(work.em))?.seq ?? 0) + 1;
  const fromSeq = parsed.fromSeq ?? start;
  if (fromSeq < start) throw badInput([{ field: 'fromSeq', message: `The journal starts at seq ${start}: the retention removed what came before.` }]);
  const toSeq = parsed.toSeq ?? head;
  if (fromSeq > head) throw badInput([{ field: 'fromSeq', message: `The journal ends at seq ${head}.` }]);
  if (toSeq > head) throw badInput([{ field: 'toSeq', message: `The journal ends at seq ${head}.` }]);
  if (toSeq < fromSeq) throw badInput([{ field: 'toSeq', message: 'The range ends before it starts.' }]);
  return issueTicket(work, 'bundle', { fromSeq, toSeq } satisfies EvidenceRange);
}

/**
 * The bundle's header and events. The trail is caught up with the bucket first (every instance's
 * checkpoints); when the bucket cannot be read, TrailUnreachable, before a byte is sent.
 */
export async function evidenceSelection(services: Services, em: EntityManager, tenantId: string, ticket: AuditExport): Promise<ExportSelection> {
  const { fromSeq, toSeq } = ticket.filter as unknown as EvidenceRange;
  await catchUpTrail(services.config, tenantId).catch((error: unknown) => {
    throw new TrailUnreachable(error);
  });
  const { checkpoints, partialTrail } = checkpointsAround(readCheckpoints(services.config.checkpointsDir, tenantId), fromSeq, toSeq);
  const anchor = await journalAnchor(em);
  const before = anchor && anchor.seq === fromSeq - 1 ? anchor : fromSeq === 1 ? null : await em.findOne(AuditEvent, { seq: fromSeq - 1 }, { fields: ['hash'] });
  const header: BundleHeader & { exportedAt: string } = {
    format: BUNDLE_FORMAT,
    tenantId,
    fromSeq,
    toSeq,
    previousHash: before?.hash ?? GENESIS_HASH,
    partialTrail,
    checkpoints: checkpoints.map(({ tenantId: _tenant, ...checkpoint }) => checkpoint),
    keys: (await publishedSigningKeys(services.db.unscoped())).map(({ id, publicKeyPem, notBefore, notAfter }) => ({ id, publicKeyPem, notBefore, notAfter })),
    exportedAt: services.clock.now().toISOString(),
  };
  return { where: { seq: { $gte: fromSeq, $lte: toSeq } }, preamble: JSON.stringify(header) };
}

/** From the last checkpoint before the range (its link to the next is checked) to the first at or after its end. */
function checkpointsAround(trail: Checkpoint[], fromSeq: number, toSeq: number): { checkpoints: Checkpoint[]; partialTrail: boolean } {
  const first = Math.max(0, trail.findLastIndex((c) => c.seq < fromSeq));
  const end = trail.findIndex((c) => c.seq >= toSeq);
  return { checkpoints: trail.slice(first, end === -1 ? trail.length : end + 1), partialTrail: first > 0 };
}

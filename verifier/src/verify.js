// @ts-check
/**
 * A Vigil journal checked without Vigil: nothing here but node:crypto and RFC 8785 JSON (canonicalize).
 *
 * The chain: each event's hash is SHA-256 over the previous event's hash (hex) followed by the event's RFC 8785
 * JSON (the fields of CHAINED, the company's id among them); a company's first event follows 64 zeros.
 * A checkpoint is the platform's Ed25519 signature over the RFC 8785 JSON of
 * { tenantId, seq, hash, time, previousSignature, keyId }: "this journal had this hash at this seq at this
 * time", each naming the one before, so none can be dropped or reordered unnoticed.
 */
import canonicalize from 'canonicalize';
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, verify } from 'node:crypto';

/**
 * @typedef {{ id: string, publicKeyPem: string, notBefore?: string | null, notAfter?: string | null }} PublishedKey
 *   A checkpoint key as /.well-known/vigil-audit-keys.json publishes it; it counts only for checkpoints dated within its validity.
 * @typedef {{ tenantId?: string, seq: number, hash: string, time: string, previousSignature: string | null, keyId?: string | null, signature: string }} SignedCheckpoint
 * @typedef {{ id: string, seq: number, occurredAt: string, action: string, outcome: string, actorType: string, actorId: string | null,
 *   targetType: string | null, targetId: string | null, ip: string | null, userAgent: string | null, sessionId: string | null,
 *   details: Record<string, unknown>, prevHash: string, hash: string }} ExportedEvent
 * @typedef {{ tenantId: string, checkpoints: SignedCheckpoint[], keys: PublishedKey[] }} Trail
 * @typedef {{ format: string, tenantId: string, fromSeq: number, toSeq: number, previousHash: string, partialTrail: boolean,
 *   checkpoints: SignedCheckpoint[], keys: PublishedKey[] }} BundleHeader
 * @typedef {{ ok: boolean, events: number, checkedFromSeq: number | null, checkedToSeq: number | null, firstBadSeq: number | null,
 *   problem: string | null, lastCheckpoint: { seq: number, time: string } | null }} Report
 */

export const BUNDLE_FORMAT = 'vigil-audit-bundle/1';
export const GENESIS_HASH = '0'.repeat(64);
/** Exactly what the chain covers of an event; its own link (prevHash, hash) is not part of it. */
export const CHAINED = /** @type {const} */ (['id', 'tenantId', 'seq', 'occurredAt', 'action', 'outcome', 'actorType', 'actorId', 'targetType', 'targetId', 'ip', 'userAgent', 'sessionId', 'details']);

/** The hash an event must have after `previous`. */
export function chainHash(/** @type {string} */ previous, /** @type {string} */ tenantId, /** @type {ExportedEvent} */ event) {
  const fields = Object.fromEntries(CHAINED.map((name) => [name, name === 'tenantId' ? tenantId : event[name]]));
  return createHash('sha256').update(`${previous}${canonicalize(fields) ?? ''}`, 'utf8').digest('hex');
}

/** The bytes a checkpoint's signature covers. */
export function checkpointPayload(/** @type {SignedCheckpoint & { tenantId: string }} */ c) {
  const { tenantId, seq, hash, time, previousSignature, keyId } = c;
  return Buffer.from(canonicalize({ tenantId, seq, hash, time, previousSignature, ...(keyId ? { keyId } : {}) }) ?? '');
}

/**
 * The checkpoints, oldest first, link by link: each must follow the one before (a partial trail's first may
 * follow one not given), be signed by a published key named by its keyId, and be dated within that key's validity.
 * @param {SignedCheckpoint[]} checkpoints
 * @param {PublishedKey[]} keys
 * @param {string} tenantId
 * @param {{ partial?: boolean }} [options]
 * @returns {{ valid: Array<SignedCheckpoint & { tenantId: string }>, problem: string | null, badSeq: number | null }}
 */
export function verifyCheckpoints(checkpoints, keys, tenantId, { partial = false } = {}) {
  const published = keys.map((key) => ({ ...key, object: createPublicKey(key.publicKeyPem) }));
  /** @type {Array<SignedCheckpoint & { tenantId: string }>} */
  const valid = [];
  /** @type {string | null | undefined} */
  let previous = partial ? undefined : null;
  for (const given of checkpoints) {
    const checkpoint = { ...given, tenantId };
    const refuse = (/** @type {string} */ problem) => ({ valid, problem: `checkpoint at seq ${checkpoint.seq} ${problem}`, badSeq: checkpoint.seq });
    if ((given.tenantId ?? tenantId) !== tenantId) return refuse(`is of another journal (${given.tenantId})`);
    if (previous !== undefined && checkpoint.previousSignature !== previous) return refuse('is out of sequence (one before it is missing or was replaced)');
    const candidates = checkpoint.keyId ? published.filter((key) => key.id === checkpoint.keyId) : published;
    if (!candidates.length) return refuse(`is signed by key ${checkpoint.keyId}, which is not in the published set`);
    const payload = checkpointPayload(checkpoint);
    const signer = candidates.find((key) => verify(null, payload, key.object, Buffer.from(checkpoint.signature, 'base64')));
    if (!signer) return refuse('has a bad signature');
    const time = Date.parse(checkpoint.time);
    if ((signer.notBefore && time < Date.parse(signer.notBefore)) || (signer.notAfter && time > Date.parse(signer.notAfter))) {
      return refuse(`is dated ${checkpoint.time}, outside the validity of key ${signer.id} (${signer.notBefore ?? 'the beginning'} to ${signer.notAfter ?? 'now'})`);
    }
    valid.push(checkpoint);
    previous = checkpoint.signature;
  }
  return { valid, problem: null, badSeq: null };
}

/**
 * Events, in seq order from `fromSeq` (the first of the journal, or of a range) to `toSeq` when the range is
 * stated, each linked to the one before, held to every checkpoint inside the range.
 * @param {ExportedEvent[]} events
 * @param {Trail} trail
 * @param {{ fromSeq?: number, toSeq?: number, previousHash?: string, partialTrail?: boolean }} [range]
 * @returns {Report}
 */
export function verifyEvents(events, trail, range = {}) {
  const fromSeq = range.fromSeq ?? events[0]?.seq ?? 1;
  /** @type {Array<SignedCheckpoint & { tenantId: string }>} */
  let held = [];
  /** @type {SignedCheckpoint | null} */
  let last = null;
  const report = (/** @type {string | null} */ problem, /** @type {number | null} */ firstBadSeq = null) => ({
    ok: problem === null,
    events: events.length,
    checkedFromSeq: events[0]?.seq ?? null,
    checkedToSeq: events.at(-1)?.seq ?? null,
    firstBadSeq,
    problem,
    lastCheckpoint: last && { seq: last.seq, time: last.time },
  });
  const trailCheck = verifyCheckpoints(trail.checkpoints, trail.keys, trail.tenantId, { partial: range.partialTrail });
  if (trailCheck.problem) return report(`the trail: ${trailCheck.problem}`, trailCheck.badSeq);
  held = trailCheck.valid;
  const seqs = new Set(events.map((event) => event.seq));
  const hashes = new Map();
  let previous = range.previousHash ?? (fromSeq === 1 ? GENESIS_HASH : (events[0]?.prevHash ?? GENESIS_HASH));
  for (const [index, event] of events.entries()) {
    const expected = fromSeq + index;
    if (event.seq !== expected) {
      return report(seqs.has(expected) ? `the events are out of order at seq ${expected}` : `seq ${expected} is missing (verify an export without a filter)`, expected);
    }
    if (event.prevHash !== previous || chainHash(previous, trail.tenantId, event) !== event.hash) return report(`event ${event.seq} was altered`, event.seq);
    hashes.set(event.seq, event.hash);
    previous = event.hash;
  }
  const end = events.at(-1)?.seq ?? fromSeq - 1;
  if (range.toSeq !== undefined && end < range.toSeq) return report(`the events end at seq ${end}, before seq ${range.toSeq} where the range ends (truncated)`, end + 1);
  for (const checkpoint of held) {
    // The checkpoint just before the range vouches for the hash the range starts from (a retention's anchor, too).
    if (checkpoint.seq === fromSeq - 1 && range.previousHash !== undefined && checkpoint.hash !== range.previousHash) {
      return report(`the hash before the range is not the one the checkpoint at seq ${checkpoint.seq} signed`, fromSeq);
    }
    if (checkpoint.seq < fromSeq) continue;
    const hash = hashes.get(checkpoint.seq);
    if (hash === undefined && (range.toSeq === undefined || checkpoint.seq <= range.toSeq)) {
      return report(`the events end at seq ${end}, before the checkpoint signed at seq ${checkpoint.seq} (truncated)`, end + 1);
    }
    if (hash === undefined) break;
    if (hash !== checkpoint.hash) return report(`event ${checkpoint.seq} is not the one the checkpoint signed (the history up to it was rewritten)`, checkpoint.seq);
    last = checkpoint;
  }
  return report(null);
}

/**
 * An evidence bundle as Vigil's exportAuditEvidence writes it (JSON lines): the header (format, company, range,
 * the hash before the range, the checkpoints around it, the keys), then one event per line, in seq order.
 * @param {string} text
 * @returns {{ header: BundleHeader, events: ExportedEvent[] }}
 */
export function parseBundle(text) {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (!lines.length) throw new Error('the bundle is empty');
  const header = /** @type {BundleHeader} */ (JSON.parse(lines[0]));
  if (header.format !== BUNDLE_FORMAT) throw new Error(`this is not a ${BUNDLE_FORMAT} bundle (its first line says ${JSON.stringify(header.format)})`);
  return { header, events: lines.slice(1).map((line, i) => parseLine(line, i + 2)) };
}

function parseLine(/** @type {string} */ line, /** @type {number} */ number) {
  try {
    return /** @type {ExportedEvent} */ (JSON.parse(line));
  } catch {
    throw new Error(`line ${number} of the bundle is not JSON`);
  }
}

/**
 * A bundle checked against the keys it carries, or, better, against keys the company fetched itself from
 * /.well-known/vigil-audit-keys.json (`publishedKeys`): a bundle cannot vouch for its own keys.
 * @param {{ header: BundleHeader, events: ExportedEvent[] }} bundle
 * @param {{ publishedKeys?: PublishedKey[] }} [options]
 * @returns {Report}
 */
export function verifyBundle({ header, events }, { publishedKeys } = {}) {
  const trail = { tenantId: header.tenantId, checkpoints: header.checkpoints, keys: publishedKeys ?? header.keys };
  return verifyEvents(events, trail, { fromSeq: header.fromSeq, toSeq: header.toSeq, previousHash: header.previousHash, partialTrail: header.partialTrail });
}

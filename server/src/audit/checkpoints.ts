import { type KeyObject, sign } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPayload, verifyCheckpoints } from 'vigil-verify';
import { signingKeyId } from '../server-keys.ts';

/**
 * A signed statement "tenant T's journal had seq N with head hash H at time X", kept outside the
 * database: rewriting history, or cutting its tail, then shows against the last checkpoint.
 * Each checkpoint names the previous one's signature, so checkpoints cannot be dropped unnoticed either.
 */
export interface Checkpoint {
  tenantId: string;
  seq: number;
  hash: string;
  time: string;
  previousSignature: string | null;
  /** The signing key's id (server-keys.ts, signingKeyId); absent in checkpoints from before keys rotated. */
  keyId?: string;
  signature: string;
}

/** Who signs: the current key and its id. */
export interface CheckpointSigner {
  key: KeyObject;
  keyId: string;
}

/** The public keys whose signatures count, by id (the current one and those retired by rotations), or one key. */
export type CheckpointVerifier = KeyObject | ReadonlyMap<string, KeyObject>;

type Unsigned = Omit<Checkpoint, 'signature'>;

const fileOf = (dir: string, tenantId: string) => join(dir, `${tenantId}.jsonl`);
// What a signature covers is the standalone verifier's definition (verifier/): what Vigil signs, a company checks.
const payload = (c: Unsigned) => checkpointPayload({ ...c, signature: '' });

export function readCheckpoints(dir: string, tenantId: string): Checkpoint[] {
  const file = fileOf(dir, tenantId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Checkpoint);
}

/** A purged company's trail: its journal is gone, and the purge receipt (platform journal) names its last link. */
export function dropCheckpoints(dir: string, tenantId: string): void {
  rmSync(fileOf(dir, tenantId), { force: true });
}

/** Under the external bucket's `checkpoints/`: one object per checkpoint, ordered by seq (which only grows per journal). */
export const offsiteCheckpointPrefix = (tenantId: string) => `checkpoints/${tenantId}/`;
export const offsiteCheckpointKey = (c: Pick<Checkpoint, 'tenantId' | 'seq'>) => `${offsiteCheckpointPrefix(c.tenantId)}${String(c.seq).padStart(12, '0')}.json`;

export function appendCheckpoint(dir: string, signer: CheckpointSigner, head: { tenantId: string; seq: number; hash: string }, time: Date): Checkpoint {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const previous = readCheckpoints(dir, head.tenantId).at(-1) ?? null;
  const unsigned: Unsigned = { ...head, time: time.toISOString(), previousSignature: previous?.signature ?? null, keyId: signer.keyId };
  const checkpoint = { ...unsigned, signature: sign(null, payload(unsigned), signer.key).toString('base64') };
  addToTrail(dir, head.tenantId, checkpoint);
  return checkpoint;
}

/** A line added to this instance's trail of a journal: one it signed, or one another instance signed (shared-trail.ts). */
export function addToTrail(dir: string, tenantId: string, checkpoint: Checkpoint): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  appendFileSync(fileOf(dir, tenantId), `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
}

export interface CheckpointTrail {
  /** Checkpoints whose signatures and links verify, oldest first. */
  valid: Checkpoint[];
  /** Set when a signature or a link is wrong: the file itself was tampered with. */
  problem: string | null;
}

export function verifiedCheckpoints(dir: string, verifier: CheckpointVerifier, tenantId: string): CheckpointTrail {
  return verifiedTrail(readCheckpoints(dir, tenantId), verifier, tenantId);
}

/** The checkpoints of a journal, oldest first, checked link by link (by the standalone verifier's rules): from a directory, or as published. */
export function verifiedTrail(checkpoints: Checkpoint[], verifier: CheckpointVerifier, tenantId: string): CheckpointTrail {
  const keys = verifier instanceof Map ? [...(verifier as ReadonlyMap<string, KeyObject>)] : [[signingKeyId(verifier as KeyObject), verifier as KeyObject] as const];
  const published = keys.map(([id, key]) => ({ id, publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString() }));
  const { valid, problem } = verifyCheckpoints(checkpoints, published, tenantId);
  return { valid: valid as Checkpoint[], problem };
}

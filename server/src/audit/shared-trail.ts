import type { Config } from '../config.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import {
  type Checkpoint,
  type CheckpointTrail,
  type CheckpointVerifier,
  addToTrail,
  offsiteCheckpointKey,
  offsiteCheckpointPrefix,
  readCheckpoints,
  verifiedCheckpoints,
} from './checkpoints.ts';

type TrailPlaces = Pick<Config, 'checkpointsDir' | 'offsite'>;

/**
 * With an external bucket, the trail is the bucket's: every instance signs into it, whichever holds the
 * checkpoint lease. This instance's file is its copy, brought up to date here with the checkpoints signed
 * since its last one (one listing, starting after that key), so that the next checkpoint links to the
 * latest of any instance, a rollback shows against it, and a verification holds the journal to it.
 * Without a bucket, the file is the trail.
 */
export async function catchUpTrail(config: TrailPlaces, tenantId: string): Promise<void> {
  const store = offsiteStore(config);
  if (!store) return;
  const last = readCheckpoints(config.checkpointsDir, tenantId).at(-1);
  for (const key of await store.list(offsiteCheckpointPrefix(tenantId), last ? offsiteCheckpointKey(last) : undefined)) {
    addToTrail(config.checkpointsDir, tenantId, readable(await store.getText(key), tenantId));
  }
}

/** The bucket could not be read: a verification against this instance's copy alone would claim more than it checked. */
export class TrailUnreachable extends Error {
  constructor(cause: unknown) {
    super(`the external bucket's checkpoint trail cannot be read (${(cause as Error).message})`, { cause });
  }
}

/** The trail a journal is verified against, caught up with the bucket first. */
export async function sharedTrail(config: TrailPlaces, verifier: CheckpointVerifier, tenantId: string): Promise<CheckpointTrail> {
  try {
    await catchUpTrail(config, tenantId);
  } catch (error) {
    throw new TrailUnreachable(error);
  }
  return verifiedCheckpoints(config.checkpointsDir, verifier, tenantId);
}

/** An object that is not a checkpoint stays in the trail as one that cannot verify, so the trail says it is damaged. */
function readable(text: string, tenantId: string): Checkpoint {
  try {
    return JSON.parse(text) as Checkpoint;
  } catch {
    return { tenantId, seq: -1, hash: '', time: '', previousSignature: 'unreadable object in the bucket', signature: '' };
  }
}

import { provedRecently } from '../access/viewer.ts';

/** Operators sign in for a working day at most, and a quarter of an hour away ends it (OPERATIONS.md §2). */
export const OPERATOR_SESSION_POLICY = { idleSeconds: 15 * 60, absoluteSeconds: 8 * 60 * 60 } as const;

export interface OperatorView {
  id: string;
  email: string;
  displayName: string;
  slot: number;
}

export interface OperatorSessionView {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  steppedUpAt: Date | null;
}

/** The operator a request of /ops/graphql stands for. Never a tenant's Viewer: the realms share no type. */
export interface OperatorViewer {
  operator: OperatorView;
  session: OperatorSessionView;
}

export function operatorHasFreshProof(viewer: OperatorViewer | null, now: Date): boolean {
  return viewer !== null && provedRecently(viewer.session, now);
}

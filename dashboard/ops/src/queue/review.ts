import { ops } from '../lib/api.ts';
import type { Review, VerificationMethod } from '../lib/types.ts';

export const REVIEW_FIELDS =
  'id tenantId tenantName kind state intentHash params reason requestedAt expiresAt verifiedAt verification approvedAt acceptBy acceptedAt executesAt executedAt purgeAt legalHold closedAt closeReason';

/** The queue's sections, in the order an operator works through them; each state belongs to one. */
export const GROUPS = [
  { id: 'verification', label: 'Waiting for verification', states: ['requested'] },
  { id: 'approval', label: 'Waiting for approval', states: ['verified'] },
  { id: 'cooling', label: 'Cooling off or approved', states: ['approved', 'cooling_off'] },
  { id: 'executed', label: 'Executed', states: ['executed', 'purged'] },
  { id: 'closed', label: 'Closed', states: ['cancelled', 'denied', 'expired'] },
] as const;
export type GroupId = (typeof GROUPS)[number]['id'];

export const METHODS: Array<{ value: VerificationMethod; label: string }> = [
  { value: 'CALL_BACK', label: 'Call-back' },
  { value: 'TICKET', label: 'Ticket' },
  { value: 'VIDEO_CALL', label: 'Video call' },
];

export const describeKind = (kind: string) => (kind === 'tenant.delete' ? 'Deletion' : kind === 'tenant.transfer_ownership' ? 'Ownership transfer' : kind);
/** `cooling_off` as a sentence starts: Cooling off. */
export const describeState = (state: string) => state.charAt(0).toUpperCase() + state.slice(1).replace(/_/g, ' ');
/** The stored method (`call_back`) as the form named it. */
export const describeMethod = (method: string | undefined) => METHODS.find((m) => m.value.toLowerCase() === method)?.label ?? method ?? '—';

export const isDeletion = (op: Review) => op.kind === 'tenant.delete';
/** Verification and approval must come before expiresAt. */
export const isBeforeApproval = (op: Review) => op.state === 'requested' || op.state === 'verified';
export const isOpen = (op: Review) => ['requested', 'verified', 'approved', 'cooling_off'].includes(op.state);
/** A legal hold is for a deletion whose data is not purged yet (vigil_critical_transition). */
export const canHold = (op: Review) => isDeletion(op) && ['requested', 'verified', 'cooling_off', 'executed'].includes(op.state);

export async function loadQueue(): Promise<Review[]> {
  return (await ops<{ criticalOperations: Review[] }>(`query Queue { criticalOperations { ${REVIEW_FIELDS} } }`)).criticalOperations;
}

const mutation = (name: string, args: string, call: string) => `mutation ${name}(${args}) { ${call} { ${REVIEW_FIELDS} } }`;

export const VERIFY = mutation('Verify', '$id: ID!, $h: String!, $m: VerificationMethod!, $r: String!', 'verifyCriticalOperation(id: $id, intentHash: $h, method: $m, reference: $r)');
export const APPROVE = mutation('Approve', '$id: ID!, $h: String!', 'approveCriticalOperation(id: $id, intentHash: $h)');
export const DENY = mutation('Deny', '$id: ID!, $r: String!', 'denyCriticalOperation(id: $id, reason: $r)');
export const HOLD = mutation('Hold', '$id: ID!, $on: Boolean!', 'setLegalHold(id: $id, legalHold: $on)');

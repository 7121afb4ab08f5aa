import { gql } from '../lib/api.ts';

export interface CriticalOperation {
  id: string;
  kind: 'DELETE' | 'TRANSFER_OWNERSHIP';
  state: string;
  intentHash: string;
  newOwnerId: string | null;
  reason: string;
  requestedAt: string;
  expiresAt: string;
  verifiedAt: string | null;
  verificationMethod: string | null;
  approvedAt: string | null;
  acceptBy: string | null;
  acceptedAt: string | null;
  executesAt: string | null;
  executedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
}

export const OPERATION_FIELDS =
  'id kind state intentHash newOwnerId reason requestedAt expiresAt verifiedAt verificationMethod approvedAt acceptBy acceptedAt executesAt executedAt closedAt closeReason';

export const OPEN_STATES = new Set(['REQUESTED', 'VERIFIED', 'APPROVED', 'COOLING_OFF']);

export async function loadOperations(): Promise<CriticalOperation[]> {
  return (await gql<{ criticalOperations: CriticalOperation[] }>(`query CriticalOperations { criticalOperations { ${OPERATION_FIELDS} } }`)).criticalOperations;
}

/** The steps so far, in order, as the company's people read them. */
export function timeline(op: CriticalOperation): Array<{ label: string; at: string }> {
  const steps: Array<[string, string | null]> = [
    ['Requested', op.requestedAt],
    [`Verified by support${op.verificationMethod ? ` (${op.verificationMethod.replace('_', '-')})` : ''}`, op.verifiedAt],
    ['Approved by support', op.approvedAt],
    ['Accepted by the new owner', op.acceptedAt],
    ['Executed', op.executedAt],
    [`Closed: ${op.state.toLowerCase()}${op.closeReason ? ` (${op.closeReason})` : ''}`, op.closedAt],
  ];
  return steps.filter((step): step is [string, string] => step[1] !== null).map(([label, at]) => ({ label, at }));
}

export const describeKind = (op: CriticalOperation) => (op.kind === 'DELETE' ? 'Deletion of the company' : 'Transfer of ownership');

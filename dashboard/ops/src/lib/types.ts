/** The shapes the console reads from the operators' GraphQL API (schema/ops.graphql). */

export interface CurrentOperator {
  id: string;
  email: string;
  displayName: string;
  slot: number;
  sessionExpiresAt: string;
  proofValidUntil: string;
}

export interface Operator {
  id: string;
  email: string;
  displayName: string;
  slot: number;
  createdAt: string;
  approvedAt: string | null;
  disabledAt: string | null;
}

export type VerificationMethod = 'CALL_BACK' | 'TICKET' | 'VIDEO_CALL';

/** CriticalOperationReview: states and kinds as the database spells them (`cooling_off`, `tenant.delete`). */
export interface Review {
  id: string;
  tenantId: string;
  tenantName: string;
  kind: string;
  state: string;
  intentHash: string;
  params: Record<string, unknown>;
  reason: string;
  requestedAt: string;
  expiresAt: string;
  verifiedAt: string | null;
  verification: { method?: string; reference?: string } | null;
  approvedAt: string | null;
  acceptBy: string | null;
  acceptedAt: string | null;
  executesAt: string | null;
  executedAt: string | null;
  purgeAt: string | null;
  legalHold: boolean;
  closedAt: string | null;
  closeReason: string | null;
}

export interface PlatformEvent {
  seq: number;
  occurredAt: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}

/** SupportGrantReview: kinds and scopes as the database spells them (`break_glass`, `journal`). */
export interface GrantReview {
  id: string;
  tenantId: string;
  tenantName: string;
  kind: string;
  scopes: string[];
  reason: string;
  caseReference: string;
  justification: string | null;
  requestedByOperator: string | null;
  approvedByOperator: string | null;
  createdAt: string;
  /** Null: a break-glass waiting for the other operator. */
  approvedAt: string | null;
  expiresAt: string;
}

export interface SupportSessionOpened {
  /** `vsp_…`, shown once. */
  token: string;
  expiresAt: string;
  grant: GrantReview;
}

export interface TenantSummary {
  id: string;
  name: string;
  state: string;
}

/** BackupStatus: the platform journal and the configuration, no company's id or data. */
export interface BackupStatus {
  engine: 'EMBEDDED' | 'PGBACKREST' | 'LOGICAL';
  engineReason: string;
  scheduleEnabled: boolean;
  intervalHours: number;
  drillIntervalHours: number;
  retentionDays: number;
  lastBackup: { backupId: string; finishedAt: string; ageSeconds: number; bytes: number | null } | null;
  lastFailure: { backupId: string | null; at: string; problem: string; journalSeq: number } | null;
  lastDrill: { backupId: string | null; at: string; passed: boolean; problems: string[]; durationMs: number | null; journalSeq: number } | null;
  stale: boolean;
  rpoSeconds: number | null;
  rpoNote: string;
  archiveFailedAt: string | null;
}

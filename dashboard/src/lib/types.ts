/** The shapes the dashboard reads from Vigil's GraphQL API (schema/schema.graphql). */

export type AuditOutcome = 'SUCCESS' | 'FAILURE' | 'DENIED';

export interface Person {
  id: string;
  email: string;
  displayName: string;
}

export interface AuditEvent {
  id: string;
  seq: number;
  occurredAt: string;
  action: string;
  outcome: AuditOutcome;
  actorType: 'USER' | 'API_KEY' | 'ANONYMOUS' | 'SYSTEM' | 'OPERATOR';
  actorId: string | null;
  actor: Person | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
  details: Record<string, unknown>;
}

/** AuditEventFilter of the API; empty fields are left out. */
export interface AuditFilter {
  actions?: string[];
  actorId?: string;
  outcome?: AuditOutcome;
  ip?: string;
}

export interface Session {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  authMethod: string;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  builtIn: boolean;
  isOwner: boolean;
  permissions: string[];
}

export interface Employee extends Person {
  status: 'ACTIVE' | 'DISABLED';
  totpEnabled: boolean;
  /** Set while repeated sign-in failures keep the account locked. */
  lockedUntil: string | null;
  role: { id: string; name: string; isOwner: boolean };
}

export interface Permission {
  name: string;
  description: string;
}

export interface Viewer {
  permissions: string[];
  isOwner: boolean;
  user: Person & { totpEnabled: boolean; role: { name: string } };
  tenant: { id: string; slug: string; name: string; sessionPolicy: { idleTimeoutSeconds: number } };
  session: { id: string; expiresAt: string } | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  status: 'ACTIVE' | 'EXPIRED' | 'GRACE' | 'REVOKED' | 'ROTATED';
  permissions: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  validUntil: string | null;
  awaitingReveal: boolean;
  autoRotated: boolean;
  owner: Person;
}

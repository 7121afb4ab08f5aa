import { AccessChange } from './access/access-change.entity.ts';
import { Role } from './access/role.entity.ts';
import { ApiKey } from './api-keys/api-key.entity.ts';
import { ScheduledJob } from './jobs/scheduled-job.entity.ts';
import { Invitation } from './users/invitation.entity.ts';
import { CriticalOperation } from './critical-ops/critical-operation.entity.ts';
import { NotificationCursor } from './notifications/notification-cursor.entity.ts';
import { OperatorSession, OperatorSlot, PlatformOperator } from './platform/operator.entity.ts';
import { TenantSummary } from './platform/tenant-summary.entity.ts';
import { PasswordReset } from './users/password-reset.entity.ts';
import { AuditEvent } from './audit/audit-event.entity.ts';
import { AuditExport } from './audit/audit-export.entity.ts';
import { AuditSigningKey } from './audit/signing-key.entity.ts';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity.ts';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity.ts';
import { RecoveryCode } from './mfa/recovery-code.entity.ts';
import { SignInChallenge } from './mfa/sign-in-challenge.entity.ts';
import { KnownDevice } from './sessions/known-device.entity.ts';
import { RetiredSessionSecret, Session } from './sessions/session.entity.ts';
import { SignInThrottle } from './sessions/sign-in-throttle.entity.ts';
import { SupportGrant, SupportSession } from './support/support-grant.entity.ts';
import { IdempotentRequest } from './idempotency/idempotent-request.entity.ts';
import { Tenant } from './tenants/tenant.entity.ts';
import { User } from './users/user.entity.ts';

/** Every entity Vigil persists; the ORM and the migration generator both read this list. */
export const entities = [
  Tenant,
  Role,
  User,
  Session,
  RetiredSessionSecret,
  KnownDevice,
  SignInThrottle,
  SignInChallenge,
  RecoveryCode,
  Invitation,
  PasswordReset,
  ApiKey,
  ScheduledJob,
  AuditEvent,
  AuditExport,
  AuditSigningKey,
  WebhookEndpoint,
  WebhookDelivery,
  AccessChange,
  CriticalOperation,
  NotificationCursor,
  OperatorSlot,
  PlatformOperator,
  OperatorSession,
  TenantSummary,
  SupportGrant,
  SupportSession,
  IdempotentRequest,
];

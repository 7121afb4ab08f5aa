/**
 * Where each journal action lands in OCSF (the version vendored in ocsf-schema/, see its README): an event
 * class, an activity of it, and the details that have an OCSF home. Typed by AuditAction: an action added to
 * the catalogue without a mapping here does not compile. The conversion itself is in ocsf.ts.
 */
import type { AuditAction } from './actions.ts';

/** OCSF's categories Vigil's events fall in, with their captions (categories.json). */
export const OCSF_CATEGORIES = {
  findings: { uid: 2, name: 'Findings' },
  iam: { uid: 3, name: 'Identity & Access Management' },
  application: { uid: 6, name: 'Application Activity' },
  remediation: { uid: 7, name: 'Remediation' },
} as const;

/** The classes used, each activity's caption with its id (events/<category>/<class>.json). 99 is Other in every class. */
export const OCSF_CLASSES = {
  detection_finding: { uid: 2004, name: 'Detection Finding', category: 'findings', activities: { Create: 1, Update: 2, Close: 3, Other: 99 } },
  account_change: {
    uid: 3001, name: 'Account Change', category: 'iam',
    activities: { Create: 1, Enable: 2, 'Password Change': 3, 'Password Reset': 4, Disable: 5, Delete: 6, 'Attach Policy': 7, 'Detach Policy': 8, Lock: 9, 'MFA Factor Enable': 10, 'MFA Factor Disable': 11, Unlock: 12, Other: 99 },
  },
  authentication: {
    uid: 3002, name: 'Authentication', category: 'iam',
    activities: { Logon: 1, Logoff: 2, 'Authentication Ticket': 3, 'Service Ticket Request': 4, 'Service Ticket Renew': 5, Preauth: 6, 'Account Switch': 7, Other: 99 },
  },
  entity_management: {
    uid: 3004, name: 'Entity Management', category: 'iam',
    activities: { Create: 1, Read: 2, Update: 3, Delete: 4, Move: 5, Enroll: 6, Unenroll: 7, Enable: 8, Disable: 9, Activate: 10, Deactivate: 11, Suspend: 12, Resume: 13, Other: 99 },
  },
  user_access: { uid: 3005, name: 'User Access Management', category: 'iam', activities: { 'Assign Privileges': 1, 'Revoke Privileges': 2, Other: 99 } },
  api_activity: { uid: 6003, name: 'API Activity', category: 'application', activities: { Create: 1, Read: 2, Update: 3, Delete: 4, Other: 99 } },
  remediation_activity: { uid: 7001, name: 'Remediation Activity', category: 'remediation', activities: { Isolate: 1, Evict: 2, Restore: 3, Harden: 4, Detect: 5, Other: 99 } },
} as const;

export type OcsfClassName = keyof typeof OCSF_CLASSES;
type ActivityOf<C extends OcsfClassName> = keyof (typeof OCSF_CLASSES)[C]['activities'];
/** An activity OCSF names; Other (99) is named by the mapping. */
type Named<C extends OcsfClassName> = Exclude<ActivityOf<C>, 'Other'>;

interface Placement {
  /** Details fields moved to OCSF attributes (dotted paths, a number indexing an array), and so out of `unmapped`. */
  place?: Readonly<Record<string, string | readonly string[]>>;
  /** Attributes the action itself implies, whatever its details. */
  set?: Readonly<Record<string, unknown>>;
}

export type OcsfMapping = {
  [C in OcsfClassName]: Placement & ({ class: C; activity: Named<C> } | { class: C; activity: 'Other'; activityName: string });
}[OcsfClassName];

const auth = (activity: Named<'authentication'>, placement: Placement = {}): OcsfMapping => ({ class: 'authentication', activity, ...placement });
const account = (activity: Named<'account_change'>): OcsfMapping => ({ class: 'account_change', activity });
const entity = (activity: Named<'entity_management'>, placement: Placement = {}): OcsfMapping => ({ class: 'entity_management', activity, ...placement });
const api = (activity: Named<'api_activity'>, placement: Placement = {}): OcsfMapping => ({ class: 'api_activity', activity, ...placement });
const other = (ocsfClass: OcsfClassName, activityName: string, placement: Placement = {}): OcsfMapping => ({ class: ocsfClass, activity: 'Other', activityName, ...placement });
const finding: OcsfMapping = { class: 'detection_finding', activity: 'Create' };

// Why a session ended or a sign-in was refused is details.reason; an operator's session is in details, not the target.
const becauseOfReason = { place: { reason: 'status_detail' } };
const operatorSession = { place: { sessionId: 'session.uid' } };
const backup = { place: { backupId: 'resources.0.uid' }, set: { 'resources.0.type': 'backup' } };
const fieldDenied = other('api_activity', 'Access Denied', { place: { field: 'api.operation' } });

export const OCSF_MAPPINGS: Record<AuditAction, OcsfMapping> = {
  'session.signed_in': auth('Logon'),
  'session.sign_in_failed': auth('Logon', becauseOfReason),
  // An address can be locked as well as an account: a refused logon, not Account Change's Lock of an account.
  'session.locked_out': auth('Logon'),
  'session.new_device': auth('Logon', { set: { is_new_logon: true } }),
  // A step-up proves the user again inside a session that exists: no new logon.
  'session.stepped_up': other('authentication', 'Step-Up'),
  // The password was right; a second stage (the code) is still to come.
  'session.totp_challenged': auth('Preauth'),
  // Service Ticket Renew is Kerberos's; a rotated session token is Vigil's own.
  'session.rotated': other('authentication', 'Session Token Rotation'),
  'session.signed_out': auth('Logoff', becauseOfReason),
  'session.revoked': auth('Logoff', becauseOfReason),
  'session.expired': auth('Logoff', becauseOfReason),
  'session.token_reuse_detected': auth('Logoff', becauseOfReason),
  'tenant.created': entity('Create'),
  'tenant.session_policy_updated': entity('Update'),
  'tenant.api_key_policy_updated': entity('Update'),
  'tenant.alert_rule_updated': entity('Update'),
  'user.signed_up': account('Create'),
  // No account exists until the invitation is accepted: the invitation is the entity created.
  'user.invited': entity('Create', { place: { email: ['entity.user.name', 'entity.user.email_addr'] } }),
  'user.invitation_accepted': account('Create'),
  'user.role_changed': { class: 'user_access', activity: 'Assign Privileges', place: { toRole: 'privileges.0' } },
  'user.disabled': account('Disable'),
  'user.enabled': account('Enable'),
  'user.unlocked': account('Unlock'),
  'user.password_changed': account('Password Change'),
  'user.email_changed': other('account_change', 'Login Change'),
  'user.password_reset': account('Password Reset'),
  'user.password_reset_completed': account('Password Change'),
  'user.totp_enrollment_started': other('account_change', 'MFA Factor Enrollment Start'),
  'user.totp_enabled': account('MFA Factor Enable'),
  'user.totp_disabled': account('MFA Factor Disable'),
  'user.recovery_code_used': other('authentication', 'Recovery Code Use'),
  // OCSF 1.8 has no Role Management class (it comes after): a role is a managed entity.
  'role.created': entity('Create'),
  'role.updated': entity('Update'),
  'role.deleted': entity('Delete'),
  'tenant.journal_retention_updated': entity('Update'),
  'audit.retention_applied': api('Delete'),
  'webhook.endpoint_created': entity('Create'),
  'webhook.endpoint_updated': entity('Update'),
  'webhook.endpoint_deleted': entity('Delete'),
  'webhook.endpoint_disabled': entity('Disable'),
  'webhook.delivery_replayed': entity('Update'),
  'api_key.created': entity('Create'),
  'api_key.rotated': entity('Update', { place: { ownerId: 'entity.user.uid' } }),
  'api_key.auto_rotated': entity('Update', { place: { ownerId: 'entity.user.uid' } }),
  'api_key.revealed': entity('Read'),
  // The key stays on record, refused from then on: disabled, not deleted.
  'api_key.revoked': entity('Disable'),
  // Presenting a credential is an authentication; this one was refused.
  'api_key.used_after_revocation': auth('Logon'),
  'api_key.denied': fieldDenied,
  // A network the key was never used from: a logon from somewhere new, as a new device is for a session.
  'api_key.new_network': auth('Logon', { set: { is_new_logon: true } }),
  'security.alert': finding,
  'access.denied': fieldDenied,
  'audit.read': api('Read'),
  'audit.exported': api('Read'),
  'audit.chain_verification_failed': finding,
  'audit.stream_opened': api('Read'),
  'user.password_change_required': auth('Preauth'),
  'journal.rollback_detected': finding,
  'backup.started': api('Create', backup),
  'backup.completed': api('Update', backup),
  'backup.failed': api('Update', backup),
  'backup.drill_passed': api('Read', backup),
  'backup.drill_failed': api('Read', backup),
  // Ending sessions and revoking credentials are D3FEND's Evict tactic.
  'incident.lockdown': { class: 'remediation_activity', activity: 'Evict' },
  // A critical operation is an entity whose state each step updates, its execution and purge included.
  'critical_operation.requested': entity('Create'),
  'critical_operation.verified': entity('Update'),
  'critical_operation.approved': entity('Update'),
  'critical_operation.accepted': entity('Update'),
  'critical_operation.cancelled': entity('Update'),
  'critical_operation.denied': entity('Update'),
  'critical_operation.legal_hold_changed': entity('Update'),
  'critical_operation.expired': entity('Update'),
  'critical_operation.executed': entity('Update'),
  'critical_operation.purged': entity('Update'),
  'critical_operation.purge_reapplied': entity('Update'),
  'critical_operation.purge_refused': entity('Update'),
  'support.granted': entity('Create'),
  'support.revoked': entity('Disable'),
  'support.access': api('Read'),
  'support.break_glass_acknowledged': entity('Update'),
  'support.break_glass': entity('Create'),
  'operator.created': account('Create'),
  'operator.approved': account('Enable'),
  'operator.signed_in': auth('Logon', { set: { is_mfa: true }, ...operatorSession }),
  'operator.sign_in_failed': auth('Logon', becauseOfReason),
  'operator.stepped_up': other('authentication', 'Step-Up', operatorSession),
  'operator.signed_out': auth('Logoff', operatorSession),
  'operator.seats_lowered': api('Update'),
};

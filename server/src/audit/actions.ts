/**
 * The audit vocabulary: every action Vigil journals, and what it means for the views built on the journal.
 * One home: writers are typed with AuditAction (an action outside this list does not compile), the
 * overview's counts, the sign-in history, the session events for integrators and the dashboard's filters
 * and highlights (through the auditActions query) all derive from it. Add an action here and nowhere else.
 */

/** A group of the overview's "needs attention" counts. */
export type AttentionGroup = 'failedSignIns' | 'lockouts' | 'tokenReuse' | 'newDevices' | 'revocations' | 'securityAlerts';

/** What an integrator's sessionEvents subscription calls the event. */
export const SESSION_EVENT_KINDS = ['created', 'rotated', 'revoked', 'signed_out', 'expired', 'token_reuse_detected'] as const;
export type SessionEventKind = (typeof SESSION_EVENT_KINDS)[number];

export interface ActionMeaning {
  description: string;
  /** A security officer must not miss it: highlighted wherever events are listed, in the "alerts only" filter. */
  alert?: true;
  attention?: AttentionGroup;
  sessionEvent?: SessionEventKind;
  /** Part of a user's sign-in history. */
  signIn?: true;
  /** Written only in the platform journal, by or about the vendor's operators: no company's catalogue lists it. */
  platformOnly?: true;
  /** Owners and administrators are mailed of it (notifications/); 'first_per_grant': only the first of each support grant (details.grantId). */
  notify?: true | 'first_per_grant';
}

export const AUDIT_ACTIONS = {
  'session.signed_in': { description: 'A user signed in and a session opened.', sessionEvent: 'created', signIn: true },
  'session.sign_in_failed': { description: 'A sign-in was refused (wrong credentials, disabled user, malformed input).', alert: true, attention: 'failedSignIns', signIn: true },
  'session.locked_out': { description: 'Too many failed sign-ins locked an account or an address.', alert: true, attention: 'lockouts', signIn: true },
  'session.new_device': { description: 'A sign-in from a device and address never seen for the user.', alert: true, attention: 'newDevices', signIn: true },
  'session.stepped_up': { description: 'A signed-in user proved who they are again, for sensitive operations.' },
  'session.totp_challenged': { description: 'A right password earned a confirmation-code challenge.' },
  'session.rotated': { description: 'A session got a new token.', sessionEvent: 'rotated' },
  'session.signed_out': { description: 'A user signed out.', sessionEvent: 'signed_out' },
  'session.revoked': { description: 'A session was ended by someone, a password change or a disabled user.', alert: true, attention: 'revocations', sessionEvent: 'revoked' },
  'session.expired': { description: 'A session passed its idle timeout or absolute lifetime.', sessionEvent: 'expired' },
  'session.token_reuse_detected': { description: 'A token the session had rotated away from was presented: the session was ended.', alert: true, attention: 'tokenReuse', sessionEvent: 'token_reuse_detected' },
  'tenant.created': { description: 'A company signed up.' },
  'tenant.session_policy_updated': { description: 'The owner changed the session lifetimes.' },
  'tenant.api_key_policy_updated': { description: 'The owner changed the API-key maximum age.' },
  'tenant.journal_retention_updated': { description: 'The owner changed how long the journal is kept (1 to 10 years, or forever).', alert: true },
  'tenant.alert_rule_updated': { description: "The owner changed a security detector: turned it off or on, or its threshold or window.", alert: true },
  'user.signed_up': { description: 'The owner created the company and their account.' },
  'user.invited': { description: 'An employee was invited.' },
  'user.invitation_accepted': { description: 'An invited employee accepted and set a password.' },
  'user.role_changed': { description: "A user's role changed." },
  'user.disabled': { description: 'A user was disabled: sessions ended, API keys revoked.', alert: true, attention: 'revocations' },
  'user.enabled': { description: 'A disabled user was enabled again.' },
  'user.unlocked': { description: "A user's sign-in lock was lifted." },
  'user.password_changed': { description: 'A user changed their password.' },
  'user.email_changed': { description: 'A user changed the email they sign in with: other sessions ended, API keys rotated without grace.', alert: true },
  'user.password_reset': { description: "The owner reset an employee's password.", alert: true },
  'user.password_reset_completed': { description: "An employee set a new password with the owner's reset token." },
  'user.totp_enrollment_started': { description: 'A user began turning confirmation codes on.' },
  'user.totp_enabled': { description: 'A user turned confirmation codes on.' },
  'user.totp_disabled': { description: 'A user turned confirmation codes off.' },
  'user.recovery_code_used': { description: 'A recovery code replaced a confirmation code.' },
  'role.created': { description: 'A role was created.' },
  'role.updated': { description: "A role's name, description or permissions changed." },
  'role.deleted': { description: 'A role was deleted.' },
  'api_key.created': { description: 'An API key was created.' },
  'api_key.rotated': { description: 'An API key was rotated.' },
  'api_key.auto_rotated': { description: 'An API key older than the maximum age was rotated automatically.' },
  'api_key.revealed': { description: "A rotated key's new secret was shown, once." },
  'api_key.revoked': { description: 'An API key was revoked.', alert: true, attention: 'revocations' },
  'api_key.used_after_revocation': { description: 'A revoked or expired API key was presented.', alert: true, attention: 'revocations' },
  'api_key.denied': { description: 'An API key asked for something beyond its permissions (journals from before access.denied).', alert: true },
  'api_key.new_network': { description: 'An API key was used from a network (IPv4 /24, IPv6 /48) it had not been used from; details.first marks its first network.' },
  'security.alert': { description: 'A detector saw an attack or a risky change in the journal (alerts/rules.ts: credential stuffing, password spraying, token reuse, a key from a new network, a mass export, a privileged role granted, support access used, a chain that did not verify); the details name the rule, the severity, the subject and the evidence seqs.', alert: true, attention: 'securityAlerts', notify: true },
  'access.denied': { description: 'A signed-in user or an API key was refused a field (FORBIDDEN): the field and the permission it lacked; once a minute per caller and field.', alert: true },
  'audit.read': { description: 'The journal was searched.' },
  'audit.exported': { description: 'The journal was exported.' },
  'audit.retention_applied': { description: "Events older than the company's retention were removed up to a signed checkpoint, which is now where the chain starts: details name it and how many went." },
  'audit.chain_verification_failed': { description: "A verification found the journal's chain or its signed checkpoints broken: details name the first bad seq and what is wrong.", alert: true },
  'webhook.endpoint_created': { description: 'A webhook endpoint was registered (its secret shown once).' },
  'webhook.endpoint_updated': { description: 'A webhook endpoint was paused, resumed, or given other actions.' },
  'webhook.endpoint_deleted': { description: 'A webhook endpoint was removed.', alert: true },
  'webhook.endpoint_disabled': { description: 'Vigil disabled a webhook endpoint: the receiver answered 410 Gone, or ten attempts over three days failed (the event is in the dead-letter list).', alert: true, notify: true },
  'webhook.delivery_replayed': { description: 'A dead-lettered webhook delivery was sent again by hand.' },
  'audit.stream_opened': { description: 'A live journal or session-event stream was opened.' },
  'user.password_change_required': { description: 'A sign-in with the right password was asked to set a new one first (after a lockdown).' },
  'journal.rollback_detected': { description: 'The journal was found behind its last signed checkpoint: the events of the missing range were lost (a failover, a restore).', alert: true, notify: true },
  'backup.started': { description: 'A backup began; its details hold the signed manifest (per company: row counts, journal head) the copy must show again.', platformOnly: true },
  'backup.completed': { description: 'A backup was written and listed.', platformOnly: true },
  'backup.failed': { description: 'A backup did not complete; what failed is in the details.', platformOnly: true, alert: true },
  'backup.drill_passed': { description: 'The restore drill restored the latest backup, re-verified every journal against the checkpoints and the manifest, and served it; the time it took is the measured RTO.', platformOnly: true },
  'backup.drill_failed': { description: 'The restore drill failed: the details name the file, the segment or the first bad seq.', platformOnly: true, alert: true },
  'incident.lockdown': { description: 'Sessions ended, keys revoked and new passwords required at once: a lockdown of a user or the company.', alert: true, notify: true },
  'critical_operation.requested': { description: "The owner asked for the company's deletion or its ownership transfer.", alert: true, notify: true },
  'critical_operation.verified': { description: 'A platform operator checked the request out of band (call-back, ticket).', alert: true, notify: true },
  'critical_operation.approved': { description: 'A platform operator approved the exact parameters (their hash).', alert: true, notify: true },
  'critical_operation.accepted': { description: 'The new owner accepted the ownership transfer.', alert: true, notify: true },
  'critical_operation.cancelled': { description: 'An owner or administrator cancelled the deletion or transfer.', alert: true, notify: true },
  'critical_operation.denied': { description: 'A platform operator denied the deletion or transfer.', alert: true, notify: true },
  'critical_operation.legal_hold_changed': { description: "A legal hold was placed on, or lifted from, a deleted company's data.", alert: true, notify: true },
  'critical_operation.expired': { description: 'A deletion or transfer ran out of time and will not happen.', notify: true },
  'critical_operation.executed': { description: 'The deletion or transfer happened.', alert: true, notify: true },
  'critical_operation.purged': { description: "A deleted company's data was purged; the signed receipt is in the platform journal.", platformOnly: true },
  'critical_operation.purge_reapplied': { description: "A restored copy older than a company's purge still held its data; the signed receipt removed it again before the copy served.", platformOnly: true },
  'critical_operation.purge_refused': { description: "A purge was refused and its data held: the company's journal chain did not verify.", alert: true, notify: true },
  'support.granted': { description: 'An owner granted platform support time-boxed, scoped, read-only access.', alert: true, notify: true },
  'support.revoked': { description: 'An owner revoked a support grant before its end.', alert: true, notify: true },
  'support.access': { description: 'A platform operator read something of the company under a support grant or a break-glass.', notify: 'first_per_grant' },
  'support.break_glass_acknowledged': { description: 'The owner acknowledged a break-glass shown at sign-in.' },
  'support.break_glass': { description: 'Both platform operators opened emergency read-only access to the company without its grant.', alert: true, notify: true },
  'operator.created': { description: 'A platform operator was created from the server\'s command line.', platformOnly: true },
  'operator.approved': { description: 'A platform operator approved the other one, who may now sign in.', platformOnly: true },
  'operator.signed_in': { description: 'A platform operator signed in (password and code).', platformOnly: true },
  'operator.sign_in_failed': { description: "A platform operator's sign-in or step-up was refused.", alert: true, platformOnly: true },
  'operator.stepped_up': { description: 'A platform operator proved who they are again, for an approval.', platformOnly: true },
  'operator.signed_out': { description: 'A platform operator signed out.', platformOnly: true },
  'operator.seats_lowered': { description: "The operators' cap was lowered from the server's command line (downward only).", platformOnly: true },
} as const satisfies Record<string, ActionMeaning>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

const entries = Object.entries(AUDIT_ACTIONS) as Array<[AuditAction, ActionMeaning]>;

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}

/** The actions with a property, in catalogue order. */
export function actionsWhere(test: (meaning: ActionMeaning) => boolean): AuditAction[] {
  return entries.filter(([, meaning]) => test(meaning)).map(([action]) => action);
}

/** The overview's groups, each with its actions. */
export function attentionGroups(): Record<AttentionGroup, AuditAction[]> {
  const groups: Record<AttentionGroup, AuditAction[]> = { failedSignIns: [], lockouts: [], tokenReuse: [], newDevices: [], revocations: [], securityAlerts: [] };
  for (const [action, meaning] of entries) if (meaning.attention) groups[meaning.attention].push(action);
  return groups;
}

/** The session-event kind of an action, for integrators' sessionEvents. */
export function sessionEventKind(action: string): SessionEventKind | null {
  return isAuditAction(action) ? ((AUDIT_ACTIONS[action] as ActionMeaning).sessionEvent ?? null) : null;
}

export function auditActionCatalogue(): Array<{ action: AuditAction } & ActionMeaning> {
  return entries.map(([action, meaning]) => ({ action, ...meaning }));
}

/** What the dashboard knows about journal events: the fields it reads and which actions mean trouble. */

export const EVENT_FIELDS = `id seq occurredAt action outcome actorType actorId actor { id email displayName }
  targetType targetId ip userAgent sessionId details`;

/** Actions a security officer must not miss: shown highlighted wherever events are listed. */
export const ALERT_ACTIONS: readonly string[] = [
  'session.sign_in_failed',
  'session.locked_out',
  'session.token_reuse_detected',
  'session.new_device',
  'session.revoked',
  'api_key.revoked',
  'api_key.used_after_revocation',
  'api_key.denied',
  'user.disabled',
  'user.password_reset',
];

/** The actions Vigil records, offered as suggestions in the action filter. */
export const KNOWN_ACTIONS: readonly string[] = [
  ...ALERT_ACTIONS,
  'session.signed_in',
  'session.signed_out',
  'session.expired',
  'session.rotated',
  'session.totp_challenged',
  'user.invited',
  'user.invitation_accepted',
  'user.role_changed',
  'user.enabled',
  'user.unlocked',
  'user.password_changed',
  'user.password_reset_completed',
  'user.totp_enabled',
  'user.totp_disabled',
  'role.created',
  'role.updated',
  'role.deleted',
  'api_key.created',
  'api_key.rotated',
  'api_key.auto_rotated',
  'api_key.revealed',
  'audit.read',
  'audit.exported',
  'tenant.session_policy_updated',
];

export function isAlert(event: { action: string; outcome: string }): boolean {
  return ALERT_ACTIONS.includes(event.action) || event.outcome === 'DENIED';
}

export function actorLabel(event: { actorType: string; actor: { displayName: string; email: string } | null; actorId: string | null }): string {
  if (event.actor) return `${event.actor.displayName} <${event.actor.email}>`;
  if (event.actorType === 'API_KEY') return `API key ${event.actorId ?? ''}`.trim();
  return event.actorType === 'SYSTEM' ? 'Vigil' : 'anonymous';
}

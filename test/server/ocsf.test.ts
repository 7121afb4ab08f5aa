import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AUDIT_ACTIONS, type AuditAction } from '../../server/src/audit/actions.ts';
import type { ActorType, AuditOutcome } from '../../server/src/audit/audit-event.entity.ts';
import type { AuditRecord } from '../../server/src/audit/feed.ts';
import { OCSF_CLASSES, OCSF_MAPPINGS, type OcsfClassName } from '../../server/src/audit/ocsf-mapping.ts';
import { OCSF_VERSION, type OcsfEvent, toOcsf } from '../../server/src/audit/ocsf.ts';
import { bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Every journal action as an OCSF event, held to the JSON Schema subset of its class vendored from the OCSF
 * repository (server/src/audit/ocsf-schema/): records built here for every action, and an export downloaded from a
 * real server.
 */
const PRODUCT = { name: 'Vigil', version: '0.1.0' };
const SCHEMA_DIR = new URL('../../server/src/audit/ocsf-schema/', import.meta.url);

// strictRequired would refuse the standard at-least-one pattern (anyOf of required) of OCSF's constraints.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
ajvFormats.default(ajv);
const schemaOf = (ocsfClass: OcsfClassName) => JSON.parse(readFileSync(new URL(`${ocsfClass}.schema.json`, SCHEMA_DIR), 'utf8')) as Record<string, any>;
const validators = new Map<OcsfClassName, ValidateFunction>();
function validatorOf(ocsfClass: OcsfClassName): ValidateFunction {
  if (!validators.has(ocsfClass)) validators.set(ocsfClass, ajv.compile(schemaOf(ocsfClass)));
  return validators.get(ocsfClass)!;
}

/** The schema's complaints about an event, as readable lines; none when it is valid. */
function problemsOf(ocsfClass: OcsfClassName, event: OcsfEvent): string[] {
  const validate = validatorOf(ocsfClass);
  return validate(event) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
}

/** One way an action is journalled: who acts, on what, with what outcome and details. */
interface Case {
  actor: ActorType;
  target: string | null;
  details: Record<string, unknown>;
  outcome?: AuditOutcome;
}
const journalled = (actor: ActorType, target: string | null, details: Record<string, unknown> = {}, outcome: AuditOutcome = 'success'): Case => ({ actor, target, details, outcome });

const email = 'ada@acme.test';
const userId = randomUUID();
const roleId = randomUUID();
const operation = { kind: 'deletion', intentHash: 'a3f1c9e2'.repeat(8) };
const backup = { backupId: '20261204T010000Z-3f9a', mode: 'logical' };
const alert = { threshold: 20, windowSeconds: 600, evidenceSeqs: [41, 42, 43, 44] };

/** Each action as Vigil's code writes it (server/src: the journal.record calls and their origins). */
const CASES: Record<AuditAction, Case[]> = {
  'session.signed_in': [journalled('user', 'session', { authMethod: 'password' }), journalled('user', 'session', { authMethod: 'password+totp' })],
  'session.sign_in_failed': [
    journalled('user', 'user', { email, reason: 'wrong_password' }, 'failure'),
    journalled('anonymous', null, { email, reason: 'unknown_email' }, 'failure'),
    journalled('anonymous', null, { email: '', reason: 'malformed_input', fields: ['email'], tenantSlug: 'acme' }, 'failure'),
  ],
  'session.locked_out': [journalled('user', 'user', { scope: 'account', lockSeconds: 900, email }, 'denied'), journalled('anonymous', null, { scope: 'address', lockSeconds: 900, email }, 'denied')],
  'session.new_device': [journalled('user', 'user', { deviceId: randomUUID() })],
  'session.stepped_up': [journalled('user', 'session', { method: 'password+totp' })],
  'session.totp_challenged': [journalled('user', 'user')],
  'session.rotated': [journalled('user', 'session')],
  'session.signed_out': [journalled('user', 'session', { reason: 'signed_out', userId })],
  'session.revoked': [journalled('user', 'session', { reason: 'revoked', userId }), journalled('api_key', 'session', { reason: 'user_disabled', userId })],
  'session.expired': [journalled('system', 'session', { reason: 'expired', userId }), journalled('user', 'session', { reason: 'expired', userId })],
  'session.token_reuse_detected': [journalled('user', 'session', { reason: 'token_reuse', userId }, 'denied')],
  'tenant.created': [journalled('user', 'tenant', { slug: 'acme', name: 'Acme Ltd' })],
  'tenant.session_policy_updated': [
    journalled('user', 'tenant', { before: { idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 43200 }, after: { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 28800 } }),
  ],
  'tenant.api_key_policy_updated': [journalled('user', 'tenant', { before: { maxAgeDays: 90 }, after: { maxAgeDays: 30 } }), journalled('api_key', 'tenant', { before: { maxAgeDays: 30 }, after: { maxAgeDays: 60 } })],
  'tenant.alert_rule_updated': [journalled('user', 'tenant', { rule: 'password_spraying', before: { enabled: true, threshold: 5, windowSeconds: 600 }, after: { enabled: true, threshold: 8, windowSeconds: 900 } })],
  'user.signed_up': [journalled('user', 'user', { email, role: 'owner' })],
  'user.invited': [journalled('user', 'invitation', { email, roleId, role: 'Sales' }), journalled('api_key', 'invitation', { email, roleId, role: 'Sales' })],
  'user.invitation_accepted': [journalled('user', 'user', { invitationId: randomUUID(), email, roleId })],
  'user.role_changed': [
    journalled('user', 'user', { fromRoleId: randomUUID(), fromRole: 'Sales', toRoleId: roleId, toRole: 'Administrator', before: ['contacts.read'], after: ['contacts.read', 'users.manage'] }),
    journalled('user', 'user', { toRoleId: roleId, toRole: 'Owner', fromRoleId: randomUUID(), fromRole: 'Administrator', by: 'ownership_transfer' }),
  ],
  'user.disabled': [journalled('user', 'user', { email }), journalled('api_key', 'user', { email })],
  'user.enabled': [journalled('user', 'user', { email })],
  'user.unlocked': [journalled('user', 'user', { email })],
  'user.password_changed': [journalled('user', 'user', { sessionsEnded: 2 })],
  'user.email_changed': [journalled('user', 'user', { from: 'ada@acme.test', to: 'ada.l@acme.test', sessionsEnded: 1 })],
  'user.password_reset': [journalled('user', 'user', { email, sessionsEnded: 1, expiresAt: '2026-12-05T01:00:00.000Z' })],
  'user.password_reset_completed': [journalled('user', 'user', { resetId: randomUUID() })],
  'user.totp_enrollment_started': [journalled('user', 'user')],
  'user.totp_enabled': [journalled('user', 'user')],
  'user.totp_disabled': [journalled('user', 'user')],
  'user.recovery_code_used': [journalled('user', 'user')],
  'role.created': [journalled('user', 'role', { name: 'Support', permissions: ['contacts.read'] }), journalled('api_key', 'role', { name: 'Support', permissions: ['contacts.read'] })],
  'role.updated': [journalled('user', 'role', { name: 'Support', before: ['contacts.read'], after: ['contacts.read', 'contacts.write'], added: ['contacts.write'], removed: [] })],
  'role.deleted': [journalled('user', 'role', { name: 'Support', permissions: ['contacts.read'] })],
  'tenant.journal_retention_updated': [journalled('user', 'tenant', { before: { years: null }, after: { years: 3 } })],
  'audit.retention_applied': [journalled('system', null, { retentionYears: 3, removedThroughSeq: 120, removed: 120, anchorHash: 'ab'.repeat(32), checkpointTime: '2023-01-01T00:00:00.000Z' })],
  'webhook.endpoint_created': [journalled('user', 'webhook_endpoint', { origin: 'https://siem.acme.test', actions: [], format: 'vigil' })],
  'webhook.endpoint_updated': [journalled('user', 'webhook_endpoint', { before: { state: 'active' }, after: { state: 'paused' } })],
  'webhook.endpoint_deleted': [journalled('user', 'webhook_endpoint', { origin: 'https://siem.acme.test' })],
  'webhook.endpoint_disabled': [journalled('system', 'webhook_endpoint', { reason: 'The receiver answered 410 Gone.', seq: 42, deliveryId: 'msg_x', status: 410 }, 'failure')],
  'webhook.delivery_replayed': [journalled('user', 'webhook_endpoint', { deliveryId: 'msg_x', seq: 42, status: 200 })],
  'api_key.created': [journalled('user', 'api_key', { name: 'CI', prefix: 'vgl_3f9a', permissions: ['contacts.read'], expiresAt: null })],
  'api_key.rotated': [journalled('user', 'api_key', { successorId: randomUUID(), prefix: 'vgl_77c1', ownerId: userId, graceSeconds: 3600 })],
  'api_key.auto_rotated': [journalled('system', 'api_key', { successorId: randomUUID(), prefix: 'vgl_77c1', ownerId: userId, graceSeconds: 86400, reason: 'max_age' })],
  'api_key.revealed': [journalled('user', 'api_key')],
  'api_key.revoked': [journalled('user', 'api_key', { reason: 'revoked', prefix: 'vgl_3f9a' }), journalled('system', 'api_key', { reason: 'user_disabled', prefix: 'vgl_3f9a' })],
  'api_key.used_after_revocation': [journalled('api_key', 'api_key', { prefix: 'vgl_3f9a' }, 'denied')],
  'api_key.denied': [journalled('api_key', 'api_key', { field: 'Query.auditEvents' }, 'denied')],
  'api_key.new_network': [journalled('api_key', 'api_key', { network: '203.0.113.0/24', prefix: 'vgl_3f9a', first: false })],
  'security.alert': [
    journalled('system', null, { rule: 'credential_stuffing', severity: 'high', subject: '203.0.113.7', ip: '203.0.113.7', accounts: 20, failures: 24, ...alert }, 'failure'),
    journalled('system', null, { rule: 'password_spraying', severity: 'medium', subject: email, email, addresses: 6, failures: 7, userId, ...alert }, 'failure'),
    journalled('system', null, { rule: 'chain_verification_failed', severity: 'critical', subject: 'journal', firstBadSeq: 17, ...alert, evidenceSeqs: [90] }, 'failure'),
  ],
  'access.denied': [journalled('user', null, { field: 'Query.auditEvents', missing: ['audit.read'] }, 'denied'), journalled('api_key', 'api_key', { field: 'Mutation.createRole', missing: ['roles.manage'] }, 'denied')],
  'audit.read': [journalled('user', null, { filter: { actions: ['session.signed_in'] } }), journalled('api_key', null, { filter: {} })],
  'audit.exported': [journalled('user', 'audit_export', { format: 'ocsf', filter: { outcome: 'failure' } })],
  'audit.chain_verification_failed': [journalled('system', null, { firstBadSeq: 17, problem: 'hash mismatch', checkedFromSeq: 1, checkedToSeq: 40 }, 'failure')],
  'audit.stream_opened': [journalled('user', null, { stream: 'auditEvents', afterSeq: null, filter: {} }), journalled('api_key', null, { stream: 'sessionEvents', afterSeq: 12, filter: {} })],
  'user.password_change_required': [journalled('user', 'user', { resetId: randomUUID() })],
  'journal.rollback_detected': [journalled('system', null, { tenantId: randomUUID(), missingFromSeq: 101, missingToSeq: 120, checkpointSeq: 120, checkpointTime: '2026-12-04T00:00:00.000Z' }, 'failure')],
  'backup.started': [journalled('system', null, { ...backup, manifest: { tenants: { acme: { rows: 1200, journalHead: 120 } } }, keyId: 'audit-2026', signature: 'MEUCIQDx' })],
  'backup.completed': [journalled('system', null, { ...backup, bytes: 1_048_576 })],
  'backup.failed': [journalled('system', null, { ...backup, problem: 'ENOSPC: no space left on device' }, 'failure')],
  'backup.drill_passed': [journalled('system', null, { ...backup, problems: [], durationMs: 5400, purgesReapplied: [] })],
  'backup.drill_failed': [journalled('system', null, { ...backup, problems: ['journal of acme: seq 17 does not verify'], durationMs: 3100, purgesReapplied: [] }, 'failure')],
  'incident.lockdown': [
    journalled('user', 'user', { scope: 'user', reason: 'phished', users: 1, sessionsEnded: 2, keysRevoked: 1, resetsVoided: 0, keptCurrentSession: false }),
    journalled('user', 'tenant', { scope: 'tenant', reason: 'breach', users: 14, sessionsEnded: 30, keysRevoked: 4, resetsVoided: 1, keptCurrentSession: true }),
  ],
  'critical_operation.requested': [journalled('user', 'critical_operation', { ...operation, reason: 'closing the company', params: { confirm: 'acme' } })],
  'critical_operation.verified': [journalled('operator', 'critical_operation', { ...operation, verification: 'call-back' })],
  'critical_operation.approved': [journalled('operator', 'critical_operation', operation)],
  'critical_operation.accepted': [journalled('user', 'critical_operation', { kind: 'ownership_transfer', intentHash: operation.intentHash })],
  'critical_operation.cancelled': [journalled('user', 'critical_operation', { ...operation, reason: null })],
  'critical_operation.denied': [journalled('operator', 'critical_operation', { ...operation, reason: 'no call-back' })],
  'critical_operation.legal_hold_changed': [journalled('operator', 'critical_operation', { ...operation, legalHold: true })],
  'critical_operation.expired': [journalled('system', 'critical_operation', operation)],
  'critical_operation.executed': [journalled('system', 'critical_operation', operation)],
  'critical_operation.purged': [journalled('system', 'critical_operation', { ...operation, tenantId: randomUUID(), receipt: { lastSeq: 120, counts: { user: 14 } }, signature: 'MEUCIQDx', keyId: 'audit-2026' })],
  'critical_operation.purge_reapplied': [journalled('system', 'critical_operation', { tenantId: randomUUID(), purgedAt: '2026-12-01T00:00:00.000Z', receiptLastSeq: 120, held: { user: 14 } })],
  'critical_operation.purge_refused': [journalled('system', 'critical_operation', { ...operation, problem: 'hash mismatch', firstBadSeq: 17 })],
  'support.granted': [journalled('user', 'support_grant', { scopes: ['contacts.read'], caseReference: 'CASE-1042', reason: 'import failing', expiresAt: '2026-12-04T05:00:00.000Z' })],
  'support.revoked': [journalled('user', 'support_grant', { kind: 'grant', caseReference: 'CASE-1042' })],
  'support.access': [
    journalled('operator', 'support_grant', { operatorId: randomUUID(), grantId: randomUUID(), caseReference: 'CASE-1042', operation: { type: 'query', name: 'Contacts', fields: ['contacts'] } }),
    journalled('operator', 'support_grant', { operatorId: randomUUID(), grantId: randomUUID(), caseReference: 'CASE-1042', operation: { type: 'mutation', name: null, fields: ['deleteContact'] } }, 'denied'),
  ],
  'support.break_glass_acknowledged': [journalled('user', 'support_grant', { caseReference: 'CASE-1042' })],
  'support.break_glass': [
    journalled('operator', 'support_grant', { step: 'requested', justification: 'outage', caseReference: 'CASE-1043', reason: 'data loss' }),
    journalled('operator', 'support_grant', { step: 'opened', justification: 'outage', caseReference: 'CASE-1043', requestedBy: randomUUID() }),
  ],
  'operator.created': [journalled('system', 'operator', { email: 'ops@vigil.test', slot: 1, pending: false })],
  'operator.approved': [journalled('operator', 'operator', { email: 'ops2@vigil.test' })],
  'operator.signed_in': [journalled('operator', 'operator', { sessionId: randomUUID() })],
  'operator.sign_in_failed': [
    journalled('anonymous', 'operator', { email: 'ops@vigil.test', reason: 'wrong_password_or_code' }, 'failure'),
    journalled('anonymous', null, { email: 'nobody@vigil.test', reason: 'unknown_email' }, 'failure'),
    journalled('anonymous', 'operator', { email: 'ops@vigil.test', reason: 'wrong_password_or_code', stepUp: true }, 'failure'),
  ],
  'operator.stepped_up': [journalled('operator', 'operator', { sessionId: randomUUID() })],
  'operator.signed_out': [journalled('operator', 'operator', { sessionId: randomUUID() })],
  'operator.seats_lowered': [journalled('system', null, { seats: 2, removed: [] })],
};

/** Where a request came from: an address and a browser, IPv6, or nowhere (a job, the command line). */
const ORIGINS = [
  { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' },
  { ip: '2001:db8::7', userAgent: null },
  { ip: null, userAgent: null },
];

let seq = 0;
function recordOf(action: AuditAction, journalledAs: Case, origin: (typeof ORIGINS)[number]): AuditRecord {
  const { actor, target, details, outcome = 'success' } = journalledAs;
  seq += 1;
  return {
    id: randomUUID(),
    tenantId: randomUUID(),
    seq,
    occurredAt: new Date(Date.UTC(2026, 11, 4, 1, 0, seq)),
    action,
    outcome,
    actorType: actor,
    actorId: actor === 'system' || actor === 'anonymous' ? null : randomUUID(),
    targetType: target,
    targetId: target ? randomUUID() : null,
    ...origin,
    sessionId: actor === 'user' ? randomUUID() : null,
    // The journal adds the key an API key's request came with (journal.ts, prepareEntry).
    details: actor === 'api_key' ? { ...details, apiKeyId: randomUUID() } : details,
    prevHash: 'b'.repeat(64),
    hash: 'c'.repeat(64),
  };
}

const actions = Object.keys(AUDIT_ACTIONS) as AuditAction[];
const recordsOf = (action: AuditAction) => CASES[action].flatMap((journalledAs) => ORIGINS.map((origin) => recordOf(action, journalledAs, origin)));

describe('OCSF mapping of the journal (pure unit test, no database)', () => {
  test.each(actions)('%s: every way it is journalled is a valid event of its class', (action) => {
    const mapping = OCSF_MAPPINGS[action];
    const ocsfClass = OCSF_CLASSES[mapping.class];
    for (const record of recordsOf(action)) {
      const event = toOcsf(record, PRODUCT);
      expect({ record: record.id, problems: problemsOf(mapping.class, event) }).toEqual({ record: record.id, problems: [] });
      expect(event.class_uid).toBe(ocsfClass.uid);
      expect(event.type_uid).toBe((event.class_uid as number) * 100 + (event.activity_id as number));
      expect(event.metadata).toMatchObject({ version: OCSF_VERSION, uid: record.id, sequence: record.seq, event_code: action, product: { name: 'Vigil', vendor_name: 'Vigil', version: '0.1.0' } });
      expect(event.time).toBe(record.occurredAt.getTime());
      // The link to the journal survives: an OCSF consumer can go back to the entry and verify its chain.
      expect((event.unmapped as Record<string, unknown>).chain).toEqual({ seq: record.seq, prevHash: record.prevHash, hash: record.hash });
      if (record.ip && 'src_endpoint' in event) expect(event.src_endpoint).toEqual({ ip: record.ip });
      // Nothing is lost: every value of the details is somewhere in the event.
      const serialized = JSON.stringify(event);
      for (const [field, value] of Object.entries(record.details)) {
        if (field === 'severity') expect(String(event.severity).toLowerCase()).toBe(value);
        else expect(serialized).toContain(JSON.stringify(value));
      }
    }
  });

  test('the vendored schemas and the table agree on every class: ids, captions, activities', () => {
    for (const [name, ocsfClass] of Object.entries(OCSF_CLASSES) as Array<[OcsfClassName, (typeof OCSF_CLASSES)[OcsfClassName]]>) {
      const schema = schemaOf(name);
      expect([schema.properties.class_uid.const, schema.properties.class_name.const]).toEqual([ocsfClass.uid, ocsfClass.name]);
      const pairs = (schema.allOf[0].anyOf as Array<{ properties: Record<string, { const?: unknown }> }>).map(({ properties }) => [properties.type_name.const, properties.activity_id.const]);
      const tabled = Object.entries(ocsfClass.activities).map(([caption, id]) => [`${ocsfClass.name}: ${caption}`, id]);
      expect(pairs).toEqual(expect.arrayContaining(tabled));
      expect(pairs.length).toBe(tabled.length + 1); // and Unknown (0), which Vigil never writes
    }
  });

  test('a credential-stuffing alert is a Detection Finding with its severity and its evidence', () => {
    const evidenceSeqs = [101, 102, 103, 104, 105];
    const [record] = recordsOf('security.alert');
    const event = toOcsf({ ...record, ip: null, userAgent: null, details: { rule: 'credential_stuffing', severity: 'high', ip: '198.51.100.4', evidenceSeqs } }, PRODUCT);
    expect(event).toMatchObject({
      class_uid: 2004, class_name: 'Detection Finding', category_uid: 2, activity_id: 1, type_uid: 200401, severity_id: 4, severity: 'High', is_alert: true,
      finding_info: { uid: record.id, title: 'credential_stuffing', analytic: { name: 'credential_stuffing', type_id: 1, type: 'Rule' } },
      evidences: [{ src_endpoint: { ip: '198.51.100.4' }, data: { evidenceSeqs } }],
    });
    expect(event).not.toHaveProperty('status_id'); // a finding's status is its consumer's to set
    expect(problemsOf('detection_finding', event)).toEqual([]);
  });

  test('severity: a failure ranks above a success, an alert above the rest', () => {
    const [record] = recordsOf('session.signed_in');
    const severityOf = (action: AuditAction, outcome: AuditOutcome) => toOcsf({ ...record, action, outcome, details: {} }, PRODUCT).severity_id;
    expect([severityOf('session.signed_in', 'success'), severityOf('session.signed_in', 'failure')]).toEqual([1, 2]);
    expect([severityOf('session.new_device', 'success'), severityOf('session.sign_in_failed', 'failure'), severityOf('session.token_reuse_detected', 'denied')]).toEqual([3, 4, 4]);
  });

  test('a sign-in refused to nobody known names the account tried, or says the user is unknown', () => {
    const [known, tried, malformed] = CASES['session.sign_in_failed'].map((journalledAs) => toOcsf(recordOf('session.sign_in_failed', journalledAs, ORIGINS[0]), PRODUCT));
    expect(known.user).toMatchObject({ name: email, email_addr: email, type_id: 1 });
    expect(tried.user).toEqual({ name: email, email_addr: email });
    expect(malformed.user).toEqual({ name: 'unknown', type_id: 0, type: 'Unknown' });
    expect([known.status_detail, tried.status_detail, malformed.status_detail]).toEqual(['wrong_password', 'unknown_email', 'malformed_input']);
  });

  test('an API key acts for its creator: the creator is the user, the key their credential', () => {
    const record = recordOf('api_key.used_after_revocation', CASES['api_key.used_after_revocation'][0], ORIGINS[0]);
    const event = toOcsf(record, PRODUCT);
    expect(event).toMatchObject({ class_uid: 3002, activity_id: 1, status_id: 2, status: 'Failure', status_code: 'denied' });
    expect(event.user).toMatchObject({ uid: record.actorId, credential_uid: record.details.apiKeyId });
    expect(event.actor).toMatchObject({ user: { uid: record.actorId, credential_uid: record.details.apiKeyId } });
  });

  test('the validator bites: a wrong class, activity, pairing or version, a missing object or an invented attribute is rejected', () => {
    const event = toOcsf(recordOf('session.signed_in', CASES['session.signed_in'][0], ORIGINS[0]), PRODUCT);
    expect(problemsOf('authentication', event)).toEqual([]);
    const broken: Record<string, OcsfEvent> = {
      'Account Change class_uid on an Authentication': { ...event, class_uid: 3001, type_uid: 300101 },
      'Unlock, an Account Change activity': { ...event, activity_id: 12, activity_name: 'Unlock', type_uid: 300212 },
      'type_uid of another activity': { ...event, type_uid: 300202 },
      'a caption that is not the id': { ...event, activity_name: 'Logoff' },
      'no user': Object.fromEntries(Object.entries(event).filter(([key]) => key !== 'user')),
      'neither service nor destination': Object.fromEntries(Object.entries(event).filter(([key]) => key !== 'service')),
      'another OCSF version': { ...event, metadata: { ...(event.metadata as OcsfEvent), version: '1.3.0' } },
      'an attribute OCSF does not have': { ...event, tenant: 'acme' },
      'an address that is not one': { ...event, src_endpoint: { ip: 'localhost:3000' } },
    };
    for (const [what, wrong] of Object.entries(broken)) expect({ what, rejected: problemsOf('authentication', wrong).length > 0 }).toEqual({ what, rejected: true });
    // And a mapping to the wrong class: a sign-in is no Account Change.
    expect(problemsOf('account_change', event).length).toBeGreaterThan(0);
  });

  test('an action outside the catalogue has no mapping: it is refused, not guessed', () => {
    const [record] = recordsOf('session.signed_in');
    expect(() => toOcsf({ ...record, action: 'made.up' }, PRODUCT)).toThrow(/no OCSF mapping for the journal action made\.up/);
  });
});

describe('an OCSF export downloaded from the server', () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startVigil();
  }, 60_000);
  afterAll(async () => vigil?.stop());

  test('every line is an OCSF event that validates against its class, tied to its journal entry by seq and hash', async () => {
    const owner = await signUpTenant(vigil.client());
    const client = bearerClient(vigil, owner.token);
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'not-the-password' });
    await client.ok('mutation { createRole(input: { name: "Auditors", permissions: ["audit.read"] }) { id } }');
    await client.ok('mutation { createApiKey(input: { name: "siem", permissions: ["audit.read"] }) { secret } }');
    const { url } = (await client.ok('mutation { exportAuditEvents(format: OCSF) { url format } }')).exportAuditEvents;
    const response = await fetch(`${vigil.url}${url}`, { headers: { authorization: `Bearer ${client.bearer}` } });
    expect(response.headers.get('content-disposition')).toMatch(/\.ocsf\.jsonl"$/);
    const events = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as OcsfEvent);
    const journal = await auditRows(vigil, owner.tenantId);
    expect(events).toHaveLength(journal.length);
    const classOf = new Map<number, OcsfClassName>(Object.entries(OCSF_CLASSES).map(([name, c]) => [c.uid as number, name as OcsfClassName]));
    for (const [i, event] of events.entries()) {
      expect({ action: journal[i].action, problems: problemsOf(classOf.get(event.class_uid as number)!, event) }).toEqual({ action: journal[i].action, problems: [] });
      expect((event.unmapped as { chain: unknown }).chain).toEqual({ seq: Number(journal[i].seq), prevHash: expect.any(String), hash: journal[i].hash });
    }
    expect(new Set(events.map((event) => event.class_uid))).toEqual(new Set([3002, 3001, 3004, 6003]));
  }, 60_000);
});

import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../audit/actions.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { RecordedEvent } from '../audit/journal.ts';
import type { AlertRuleName, EffectiveRule } from './rules.ts';

/** What a detector found: the details of the alert, and the seqs of the events that are its evidence. */
export interface Finding {
  details: Record<string, unknown>;
  evidenceSeqs: number[];
}

/**
 * A rule's reading of the journal: which actions wake it, whose events it counts (the subject: one alert
 * per subject and window), and what it finds once woken, reading the journal itself, which every instance
 * shares, as its state.
 */
export interface Detector {
  rule: AlertRuleName;
  on: readonly AuditAction[];
  subject(event: RecordedEvent): string | null;
  find(em: EntityManager, event: RecordedEvent, rule: EffectiveRule, since: Date): Promise<Finding | null>;
}

const EVIDENCE_LIMIT = 100;
const PRIVILEGED = ['roles.manage', 'users.manage'];

const detail = (event: RecordedEvent, name: string): unknown => (event.details as Record<string, unknown>)[name];
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const evidence = (events: Array<Pick<AuditEvent, 'seq'>>) => events.slice(-EVIDENCE_LIMIT).map((event) => event.seq);
/** The event alone is the evidence: rules that fire on their first event. */
const itself = (event: RecordedEvent, details: Record<string, unknown>): Finding => ({ details, evidenceSeqs: [event.seq] });

function failuresWhere(em: EntityManager, where: Record<string, unknown>, since: Date) {
  return em.find(AuditEvent, { action: 'session.sign_in_failed', occurredAt: { $gt: since }, ...where }, { fields: ['seq', 'ip', 'details'], orderBy: { seq: 'asc' } });
}

const credentialStuffing: Detector = {
  rule: 'credential_stuffing',
  on: ['session.sign_in_failed'],
  subject: (event) => event.ip,
  async find(em, event, rule, since) {
    const failures = await failuresWhere(em, { ip: event.ip }, since);
    const accounts = new Set(failures.map((failure) => text((failure.details as { email?: unknown }).email)?.toLowerCase()).filter(Boolean));
    if (accounts.size < rule.threshold) return null;
    return { details: { ip: event.ip, accounts: accounts.size, failures: failures.length }, evidenceSeqs: evidence(failures) };
  },
};

const passwordSpraying: Detector = {
  rule: 'password_spraying',
  on: ['session.sign_in_failed'],
  subject: (event) => text(detail(event, 'email'))?.toLowerCase() ?? null,
  async find(em, event, rule, since) {
    const email = text(detail(event, 'email'))!;
    const failures = await failuresWhere(em, { details: { email } }, since);
    const addresses = new Set(failures.map((failure) => failure.ip).filter(Boolean));
    if (addresses.size < rule.threshold) return null;
    return { details: { email, addresses: addresses.size, failures: failures.length, ...(event.targetId ? { userId: event.targetId } : {}) }, evidenceSeqs: evidence(failures) };
  },
};

const tokenReuse: Detector = {
  rule: 'token_reuse',
  on: ['session.token_reuse_detected'],
  subject: (event) => event.sessionId ?? event.targetId,
  find: async (_em, event) => itself(event, { sessionId: event.sessionId ?? event.targetId, userId: event.actorId, ip: event.ip }),
};

const apiKeyNewNetwork: Detector = {
  rule: 'api_key_new_network',
  on: ['api_key.new_network'],
  // A key's first network is where it starts working, not news.
  subject: (event) => (event.targetId && text(detail(event, 'network')) && detail(event, 'first') !== true ? `${event.targetId}:${String(detail(event, 'network'))}` : null),
  find: async (_em, event) => itself(event, { apiKeyId: event.targetId, network: detail(event, 'network'), ip: event.ip, prefix: detail(event, 'prefix') }),
};

const massExport: Detector = {
  rule: 'mass_export',
  on: ['audit.exported'],
  subject: (event) => event.actorId,
  async find(em, event, rule, since) {
    const exports = await em.find(AuditEvent, { action: 'audit.exported', actorId: event.actorId, occurredAt: { $gt: since } }, { fields: ['seq'], orderBy: { seq: 'asc' } });
    if (exports.length < rule.threshold) return null;
    return { details: { actorId: event.actorId, actorType: event.actorType, exports: exports.length }, evidenceSeqs: evidence(exports) };
  },
};

/** The privileged permissions an event gives: to a role it creates or changes, or to a user through a new role. */
function privilegedGranted(event: RecordedEvent): string[] {
  const list = (name: string) => (Array.isArray(detail(event, name)) ? (detail(event, name) as unknown[]).map(String) : []);
  const given = event.action === 'role.created' ? list('permissions') : event.action === 'role.updated' ? list('added') : list('after').filter((p) => !list('before').includes(p));
  return given.filter((permission) => PRIVILEGED.includes(permission));
}

const privilegedRoleGranted: Detector = {
  rule: 'privileged_role_granted',
  on: ['role.created', 'role.updated', 'user.role_changed'],
  subject: (event) => (privilegedGranted(event).length ? event.targetId : null),
  find: async (_em, event) =>
    itself(event, { targetType: event.targetType, targetId: event.targetId, permissions: privilegedGranted(event), role: detail(event, 'toRole') ?? detail(event, 'name'), byActorId: event.actorId }),
};

const supportAccessUsed: Detector = {
  rule: 'support_access_used',
  on: ['support.access'],
  subject: (event) => text(detail(event, 'grantId')) ?? event.targetId,
  find: async (_em, event) => itself(event, { grantId: detail(event, 'grantId') ?? event.targetId, operatorId: detail(event, 'operatorId') ?? null, caseReference: detail(event, 'caseReference') ?? null }),
};

const chainVerificationFailed: Detector = {
  rule: 'chain_verification_failed',
  on: ['audit.chain_verification_failed'],
  subject: () => 'journal',
  find: async (_em, event) => itself(event, { firstBadSeq: detail(event, 'firstBadSeq') ?? null, problem: detail(event, 'problem') ?? null }),
};

export const DETECTORS: readonly Detector[] = [credentialStuffing, passwordSpraying, tokenReuse, apiKeyNewNetwork, massExport, privilegedRoleGranted, supportAccessUsed, chainVerificationFailed];

const byAction = new Map<string, Detector[]>();
for (const detector of DETECTORS) for (const action of detector.on) byAction.set(action, [...(byAction.get(action) ?? []), detector]);

export function detectorsOf(action: string): readonly Detector[] {
  return byAction.get(action) ?? [];
}

/** Every action some detector wakes on: what the sweep reads again. */
export const DETECTED_ACTIONS: readonly string[] = [...byAction.keys()];

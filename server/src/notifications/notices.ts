import { ALERT_RULES, type AlertRuleName } from '../alerts/rules.ts';
import { AUDIT_ACTIONS, type ActionMeaning, isAuditAction } from '../audit/actions.ts';
import { type CriticalKind, type CriticalState, OPEN_STATES } from '../critical-ops/critical-operation.entity.ts';

/** What a notice says of one journal event, gathered in the company's transaction. */
export interface NoticeFacts {
  company: string;
  event: {
    seq: number;
    action: string;
    occurredAt: Date;
    details: Record<string, unknown>;
  };
  /** Who did it, as people of the company know them ("Vigil" for Vigil itself). */
  actor: string;
  /** The critical operation the event is a step of, as it stands now. */
  operation?: { kind: CriticalKind; state: CriticalState; executesAt?: Date | null; acceptBy?: Date | null; newOwner?: string | null } | null;
  /** The person a lockdown of one user was about. */
  lockedDownUser?: string | null;
}

export interface Notice {
  subject: string;
  text: string;
}

const KINDS: Record<CriticalKind, string> = { 'tenant.delete': 'company deletion', 'tenant.transfer_ownership': 'ownership transfer' };
const LOCKDOWN_SCOPES: Record<string, string> = { self: 'their own account', user: 'one employee', tenant: 'the whole company' };

/**
 * The mail of one event, in plain text (no HTML: nothing to escape, nothing to render). The subject is made of
 * Vigil's own vocabulary only, never of what somebody typed; the body shows chosen fields of the event — what,
 * when, by whom, the operation's kind and state, a reason — and never its details as such, its addresses,
 * session or key ids: no event holds a secret, and a mail shows less than the journal does.
 */
export function composeNotice(facts: NoticeFacts): Notice {
  const { event, operation } = facts;
  const meaning: ActionMeaning | undefined = isAuditAction(event.action) ? AUDIT_ACTIONS[event.action] : undefined;
  const title = `${sentenceCase(event.action.replace(/[._]/g, ' '))}${operation ? `: ${KINDS[operation.kind]}` : ''}`;
  const lines: Array<[string, string | null]> = [
    ['Company', oneLine(facts.company)],
    ['What', `${title} (${event.action})`],
    ['When', utc(event.occurredAt)],
    ['By', oneLine(facts.actor)],
    ['Operation', operation ? operationLine(operation) : null],
    ...lockdownLines(facts),
    ['Reason', textDetail(event.details.reason)],
    ['Step', textDetail(event.details.step)],
    ['Justification', textDetail(event.details.justification)],
    ['Case', textDetail(event.details.caseReference)],
    ['Until', dateDetail(event.details.expiresAt)],
    ['Access', listDetail(event.details.scopes)],
    ['Lost', lostRange(event.details)],
    ['Alert', alertLine(event.details)],
    ['Evidence', evidenceLine(event.details.evidenceSeqs)],
  ];
  const width = Math.max(...lines.filter(([, value]) => value).map(([label]) => label.length)) + 2;
  const text = [
    meaning?.description ?? 'A security event of your company.',
    '',
    ...lines.filter((line): line is [string, string] => line[1] !== null).map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
    '',
    advice(facts),
    '',
    `Entry #${event.seq} of the company's journal, where this and everything around it is recorded.`,
    'You receive this as an owner or administrator of the company.',
    '',
  ].join('\n');
  return { subject: `[Vigil] ${title}`, text };
}

function operationLine(operation: NonNullable<NoticeFacts['operation']>): string {
  const what = `${KINDS[operation.kind]}${operation.newOwner ? ` to ${oneLine(operation.newOwner)}` : ''}, now ${operation.state.replace(/_/g, ' ')}`;
  if (operation.state === 'cooling_off' && operation.executesAt) return `${what}: it happens at ${utc(operation.executesAt)} unless cancelled`;
  if (operation.state === 'approved' && operation.acceptBy) return `${what}: the new owner may accept until ${utc(operation.acceptBy)}`;
  return what;
}

function lockdownLines(facts: NoticeFacts): Array<[string, string | null]> {
  if (facts.event.action !== 'incident.lockdown') return [];
  const { scope, sessionsEnded, keysRevoked } = facts.event.details;
  const whom = typeof scope === 'string' ? (LOCKDOWN_SCOPES[scope] ?? null) : null;
  return [
    ['Locked down', facts.lockedDownUser && scope !== 'tenant' ? `${oneLine(facts.lockedDownUser)} (${whom})` : whom],
    ['Ended', typeof sessionsEnded === 'number' && typeof keysRevoked === 'number' ? `${count(sessionsEnded, 'session')}, ${count(keysRevoked, 'API key')} revoked` : null],
  ];
}

/** A rollback's missing entries, as the numbers the journal showed them. */
function lostRange(details: Record<string, unknown>): string | null {
  const { missingFromSeq: from, missingToSeq: to } = details;
  return typeof from === 'number' && typeof to === 'number' ? `entries #${from} to #${to} of the journal` : null;
}

/** A detector's finding in its catalogue's words (alerts/rules.ts), never in the event's own text. */
function alertLine(details: Record<string, unknown>): string | null {
  const rule = details.rule;
  if (typeof rule !== 'string' || !Object.hasOwn(ALERT_RULES, rule)) return null;
  const { description, severity } = ALERT_RULES[rule as AlertRuleName];
  return `${description.replaceAll('`threshold`', String(details.threshold ?? 'many'))} (${rule}, severity ${severity})`;
}

function evidenceLine(seqs: unknown): string | null {
  if (!Array.isArray(seqs) || !seqs.length || !seqs.every((seq) => Number.isInteger(seq))) return null;
  const shown = seqs.slice(0, 10).map((seq) => `#${seq}`).join(', ');
  return `${seqs.length > 10 ? `${shown}, … (${seqs.length} entries in all)` : shown} of the journal`;
}

function advice(facts: NoticeFacts): string {
  const { operation, event } = facts;
  if (event.action === 'journal.rollback_detected') return "The signed checkpoint shows these entries existed: the journal lost them (a failover or a restore). Vigil's operators see it in the platform journal.";
  if (operation && OPEN_STATES.includes(operation.state)) return "If this wasn't you, or you do not want it, cancel it on the Company screen of the Vigil dashboard.";
  if (event.action.startsWith('support.') && event.action !== 'support.revoked') return 'Support access is read-only and journalled request by request; the Company screen of the Vigil dashboard shows it live and revokes a grant.';
  if (event.action === 'webhook.endpoint_disabled') return 'Nothing is lost: the Integrations screen of the Vigil dashboard shows why, resumes the endpoint from where it stopped, and replays a dead-lettered delivery.';
  if (event.action === 'security.alert') return 'The journal on the Vigil dashboard shows the evidence; a lockdown (Company screen) ends sessions and revokes keys at once if an account is taken.';
  if (event.action === 'incident.lockdown') return 'Everyone in it must set a new password at their next sign-in. The incident report and the sign-in history are on the Vigil dashboard.';
  return 'The Company screen of the Vigil dashboard shows the details.';
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const sentenceCase = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** 2026-12-02 14:39:49 UTC */
export const utc = (date: Date) => `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * Text somebody typed, on one line of the body: control and format characters (line breaks, bidirectional
 * overrides) become spaces, so it cannot forge lines of its own, and it is cut at 300 characters.
 */
export function oneLine(value: string): string {
  const flat = value.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300).toWellFormed()}…` : flat;
}

const textDetail = (value: unknown) => (typeof value === 'string' && value.trim() ? oneLine(value) : null);

function dateDetail(value: unknown): string | null {
  const date = typeof value === 'string' ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? utc(date) : null;
}

function listDetail(value: unknown): string | null {
  return Array.isArray(value) && value.length && value.every((v) => typeof v === 'string') ? oneLine(value.join(', ')) : null;
}

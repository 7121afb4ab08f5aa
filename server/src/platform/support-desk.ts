import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditEntry, AppendedRow } from '../audit/journal.ts';
import { bothJournals } from '../audit/journal.ts';
import { refusalOf } from '../critical-ops/transitions.ts';
import { jsonOf } from '../db/rows.ts';
import { notFound } from '../errors.ts';
import { BREAK_GLASS_JUSTIFICATIONS, SUPPORT_SCOPES } from '../support/support-grant.entity.ts';
import { mintSupportToken } from '../support/support-access.ts';
import { isUuid } from '../tokens.ts';
import { displayableText, parseInput } from '../validation.ts';
import type { OperatorWork } from './operator-work.ts';

/** A grant as the operators see it: what it allows and until when, and the company's name; nothing of its data. */
export interface GrantReview {
  id: string;
  tenantId: string;
  tenantName: string;
  kind: 'grant' | 'break_glass';
  scopes: string[];
  reason: string;
  caseReference: string;
  justification: string | null;
  requestedByOperator: string | null;
  approvedByOperator: string | null;
  createdAt: Date;
  approvedAt: Date | null;
  expiresAt: Date;
}

export interface SupportSessionOpened {
  /** `vsp_…`, shown once: the Bearer credential of /graphql, read-only, for this company, until expiresAt. */
  token: string;
  expiresAt: Date;
  grant: GrantReview;
}

const Id = z.string().refine(isUuid, 'Not a grant id.');
const BreakGlassSchema = z.object({
  tenantId: z.string().refine(isUuid, 'Not a company id.'),
  justification: z.enum(BREAK_GLASS_JUSTIFICATIONS),
  caseReference: displayableText(1, 100, 'Name the incident or case.'),
  reason: displayableText(10, 500, 'Say what you must look at, in at least 10 characters.'),
});

/** Grants in force (and break-glasses waiting for the second operator), as vigil_ops_support_grants shows them. */
export async function grantsInForce(em: EntityManager, now: Date): Promise<GrantReview[]> {
  const rows = await em.execute<Array<Record<string, unknown>>>('select * from vigil_ops_support_grants(?)', [now]);
  return rows.map(reviewOf);
}

/** A session under a grant in force: a token for /graphql that reads what the grant's scopes allow, and nothing else. */
export async function openSupportSession(work: OperatorWork, grantId: unknown): Promise<SupportSessionOpened> {
  const grant = await grantInForce(work, parseInput(Id, grantId));
  const sessionId = randomUUID();
  const { token, secretHash } = mintSupportToken(sessionId);
  const opened = await step(work, grant, 'session', { id: grant.id, sessionId, secretHash }, {
    action: 'support.access',
    target: { type: 'support_grant', id: grant.id },
    details: { operatorId: operatorIdOf(work), grantId: grant.id, caseReference: grant.caseReference, operation: { type: 'open_session', name: null, fields: [] } },
  });
  return { token, expiresAt: opened.sessionExpiresAt!, grant: opened.grant };
}

/** One operator asks to open a company without its grant; the other must approve (approveBreakGlass) within the hour. */
export async function requestBreakGlass(work: OperatorWork, input: unknown): Promise<GrantReview> {
  const { tenantId, justification, caseReference, reason } = parseInput(BreakGlassSchema, input);
  const id = randomUUID();
  const { grant } = await step(work, { tenantId, tenantName: null }, 'break_glass', { id, justification, caseReference, reason, scopes: SUPPORT_SCOPES }, {
    action: 'support.break_glass',
    target: { type: 'support_grant', id },
    details: { step: 'requested', justification, caseReference, reason },
  });
  return grant;
}

/** The second operator opens it: read-only access to the company for at most an hour, shown to its owner at their next sign-in. */
export async function approveBreakGlass(work: OperatorWork, grantId: unknown): Promise<GrantReview> {
  const grant = await grantInForce(work, parseInput(Id, grantId));
  const approved = await step(work, grant, 'approve_break_glass', { id: grant.id }, {
    action: 'support.break_glass',
    target: { type: 'support_grant', id: grant.id },
    details: { step: 'opened', justification: grant.justification, caseReference: grant.caseReference, requestedBy: grant.requestedByOperator },
  });
  return approved.grant;
}

async function grantInForce(work: OperatorWork, id: string): Promise<GrantReview> {
  const grant = (await grantsInForce(work.em, work.now)).find((g) => g.id === id);
  if (!grant) throw notFound();
  return grant;
}

/**
 * One call of vigil_support_open, journalled in the company's journal and the platform journal: the grant as
 * it now stands (named by the company's name the caller knows, else read), and a new session's end.
 */
async function step(
  work: OperatorWork,
  company: { tenantId: string; tenantName: string | null },
  name: 'session' | 'break_glass' | 'approve_break_glass',
  input: Record<string, unknown>,
  entry: AuditEntry,
): Promise<{ grant: GrantReview; sessionExpiresAt: Date | null }> {
  const { tenantId } = company;
  const journals = bothJournals(tenantId, work.journal.origin, work.now, entry);
  let result: { grant: Record<string, unknown>; sessionExpiresAt: string | null; tenant: AppendedRow[]; platform: AppendedRow[] };
  try {
    const [row] = await work.em.execute<Array<{ result: unknown }>>('select vigil_support_open(?, ?, ?, ?::jsonb, ?, ?::jsonb) as result', [
      tenantId, name, operatorIdOf(work), JSON.stringify(input), work.now, JSON.stringify(journals.argument),
    ]);
    result = jsonOf(row.result);
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
  journals.adoptInto(work.journal, result);
  const tenantName = company.tenantName ?? (await grantsInForce(work.em, work.now)).find((g) => g.tenantId === tenantId)?.tenantName ?? '';
  return { grant: reviewOf({ ...result.grant, tenant_name: tenantName }), sessionExpiresAt: result.sessionExpiresAt ? new Date(result.sessionExpiresAt) : null };
}

const operatorIdOf = (work: OperatorWork) => work.operator!.operator.id;

/** text[] as node-postgres parses it, or as PGlite or to_jsonb hand it over. */
function scopesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  const text = String(value ?? '');
  return text.startsWith('{') ? text.slice(1, -1).split(',').filter(Boolean) : jsonOf<string[]>(text);
}

function reviewOf(row: Record<string, unknown>): GrantReview {
  const date = (value: unknown) => (value == null ? null : new Date(String(value)));
  return {
    id: String(row.id), tenantId: String(row.tenant_id), tenantName: String(row.tenant_name ?? ''), kind: row.kind as GrantReview['kind'],
    scopes: scopesOf(row.scopes), reason: String(row.reason), caseReference: String(row.case_reference),
    justification: (row.justification as string | null) ?? null, requestedByOperator: (row.requested_by_operator as string | null) ?? null,
    approvedByOperator: (row.approved_by_operator as string | null) ?? null,
    createdAt: date(row.created_at)!, approvedAt: date(row.approved_at), expiresAt: date(row.expires_at)!,
  };
}

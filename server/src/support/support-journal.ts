import { type DocumentNode, GraphQLError, Kind, getOperationAST } from 'graphql';
import { type Context, auditOrigin } from '../context.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

/**
 * Every operation support sends under a grant, before it runs: one `support.access` in the company's journal
 * (committed on its own, so a read is never unjournalled, and published live on the company's feed), and a
 * mutation refused there and then. What it reads runs afterwards in a read-only transaction (unit-of-work.ts).
 * Null for any other caller, and when the operation may run.
 */
export async function admitSupportOperation(
  ctx: Pick<Context, 'services' | 'meta' | 'viewer'>,
  document: DocumentNode,
  operationName: string | null | undefined,
): Promise<GraphQLError | null> {
  const { viewer } = ctx;
  if (viewer?.kind !== 'support') return null;
  const operation = getOperationAST(document, operationName ?? undefined);
  const type = operation?.operation ?? 'query';
  const fields = operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? [];
  const refused = type === 'mutation';
  await inTenantTransaction(ctx.services, { tenantId: viewer.tenantId, origin: auditOrigin(ctx), viewer: null }, ({ journal }) =>
    journal.record({
      action: 'support.access',
      outcome: refused ? 'denied' : 'success',
      target: { type: 'support_grant', id: viewer.grantId },
      details: { operatorId: viewer.operatorId, grantId: viewer.grantId, caseReference: viewer.caseReference, operation: { type, name: operation?.name?.value ?? null, fields } },
    }),
  );
  return refused ? clientError(ErrorCode.FORBIDDEN, 'Support access is read-only.') : null;
}

import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { Context } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';

/** One entry per caller and field a minute is evidence enough; more would let a caller flood the journal. */
const REPORT_INTERVAL_SECONDS = 60;

/**
 * Journals, when the operation ends, each field refused to a signed-in user or an API key (FORBIDDEN) as
 * `access.denied`: the field, what the caller lacked, the actor (the journal entry's). Support access is
 * journalled apart (support/support-journal.ts); an anonymous caller was asked to sign in, not refused.
 */
export async function journalDenials(ctx: Context): Promise<void> {
  const viewer = ctx.viewer;
  if ((viewer?.kind !== 'api_key' && viewer?.kind !== 'session') || !ctx.denials.length) return;
  const denied = [...new Map(ctx.denials.splice(0).map((denial) => [denial.field, denial])).values()];
  await asViewer(ctx, async ({ journal, em, now }, refused) => {
    const since = new Date(now.getTime() - REPORT_INTERVAL_SECONDS * 1000);
    const caller = viewer.kind === 'api_key' ? { actorType: 'api_key' as const, target: { type: 'api_key', id: viewer.apiKeyId } } : { actorType: 'user' as const, target: null };
    for (const { field, missing } of refused) {
      const reported = await em.count(AuditEvent, { action: 'access.denied', actorId: viewer.user.id, actorType: caller.actorType, targetId: caller.target?.id ?? null, occurredAt: { $gt: since }, details: { field } });
      if (reported > 0) continue;
      await journal.record({ action: 'access.denied', outcome: 'denied', target: caller.target, details: { field, missing } });
    }
  }, denied);
}

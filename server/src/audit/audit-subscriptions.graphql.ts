import { readsJournalledApart } from '../access/viewer.ts';
import { builder, enumOf } from '../builder.ts';
import { viewerOf } from '../context.ts';
import type { Context } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { parseInput } from '../validation.ts';
import { SESSION_EVENT_KINDS, actionsWhere, sessionEventKind } from './actions.ts';
import { AuditEventFilter, AuditEventRef } from './audit.graphql.ts';
import type { AuditRecord } from './feed.ts';
import { LiveAuditStream } from './live-stream.ts';
import { AuditFilterSchema } from './search.ts';

/** Session lifecycle events for integrators, derived from the journal (see actions.ts). */
const SessionEventKindEnum = enumOf('SessionEventKind', SESSION_EVENT_KINDS);
const SESSION_EVENT_ACTIONS = actionsWhere((meaning) => meaning.sessionEvent !== undefined);

const SessionEventRef = builder.objectRef<AuditRecord>('SessionEvent').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    kind: t.field({ type: SessionEventKindEnum, resolve: (e) => sessionEventKind(e.action)! }),
    seq: t.expose('seq', { type: 'SafeInt', description: 'The journal seq: resume with afterSeq after a reconnect.' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    sessionId: t.id({ resolve: (e) => e.targetId ?? '' }),
    userId: t.id({ nullable: true, resolve: (e) => (typeof e.details.userId === 'string' ? e.details.userId : e.actorId) }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
  }),
});

/** Opens a journal stream and records that it was opened; the socket closes if its credential loses a right. */
async function openStream(ctx: Context, filter: unknown, afterSeq: number | null | undefined, stream: 'audit' | 'session') {
  const viewer = viewerOf(ctx);
  const parsed = parseInput(AuditFilterSchema, filter ?? {});
  if (!readsJournalledApart(viewer)) {
    await asViewer(ctx, ({ journal }, details) => journal.record({ action: 'audit.stream_opened', details }), { stream, afterSeq: afterSeq ?? null, filter: filter ?? {} });
  }
  return new LiveAuditStream(ctx.services, viewer.tenantId, { afterSeq: afterSeq ?? null, filter: parsed });
}

builder.subscriptionFields((t) => ({
  auditEvents: t.field({
    type: AuditEventRef,
    description: 'Replays every event after afterSeq (oldest first), then delivers new ones as they commit, in seq order.',
    authScopes: { permission: 'audit.read' },
    args: { filter: t.arg({ type: AuditEventFilter }), afterSeq: t.arg({ type: 'SafeInt' }) },
    subscribe: (_root, args, ctx) => openStream(ctx, args.filter, args.afterSeq, 'audit'),
    resolve: (event: AuditRecord) => event,
  }),
  sessionEvents: t.field({
    type: SessionEventRef,
    description: 'Sessions created, rotated, revoked, signed out, expired, or ended for token reuse; for integrators.',
    authScopes: { permission: 'sessions.read_all' },
    args: { afterSeq: t.arg({ type: 'SafeInt' }) },
    subscribe: (_root, args, ctx) =>
      openStream(ctx, { actions: SESSION_EVENT_ACTIONS }, args.afterSeq, 'session'),
    resolve: (event: AuditRecord) => event,
  }),
}));

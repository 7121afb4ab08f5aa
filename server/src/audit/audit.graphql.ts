import { readsJournalledApart } from '../access/viewer.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { builder, enumOf } from '../builder.ts';
import { tenantEmOf } from '../context.ts';
import { type ViewerWork, asViewer } from '../unit-of-work.ts';
import { User } from '../users/user.entity.ts';
import { UserRef } from '../users/user.graphql.ts';
import { parseInput } from '../validation.ts';
import { AUDIT_OUTCOMES, ACTOR_TYPES, type AuditEvent } from './audit-event.entity.ts';
import { type AuditFilter, AuditFilterSchema, type AuditPage, MAX_PAGE_SIZE, encodeCursor, searchAuditEvents } from './search.ts';

export const AuditOutcomeEnum = enumOf('AuditOutcome', AUDIT_OUTCOMES);
export const ActorTypeEnum = enumOf('ActorType', ACTOR_TYPES);

/** Entities from a search and records from a live stream share these fields. */
type AuditEventView = Pick<AuditEvent, 'id' | 'seq' | 'occurredAt' | 'action' | 'outcome' | 'actorType' | 'actorId' | 'targetType' | 'targetId' | 'ip' | 'userAgent' | 'sessionId' | 'details' | 'prevHash' | 'hash'>;

export const AuditEventRef = builder.objectRef<AuditEventView>('AuditEvent').implement({
  description: "One entry of the tenant's append-only, hash-chained journal.",
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    seq: t.expose('seq', { type: 'SafeInt', description: 'Position in the tenant journal: gap-free, increasing.' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    action: t.exposeString('action'),
    outcome: t.field({ type: AuditOutcomeEnum, resolve: (e) => e.outcome }),
    actorType: t.field({ type: ActorTypeEnum, resolve: (e) => e.actorType }),
    actorId: t.exposeID('actorId', { nullable: true }),
    actor: t.field({
      type: UserRef,
      nullable: true,
      resolve: (e, _args, ctx) => (e.actorId ? tenantEmOf(ctx).findOne(User, e.actorId) : null),
    }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeID('targetId', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    sessionId: t.exposeID('sessionId', { nullable: true }),
    details: t.expose('details', { type: 'JSONObject' }),
    prevHash: t.exposeString('prevHash'),
    hash: t.exposeString('hash'),
  }),
});

const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const AuditEventEdgeRef = builder.objectRef<AuditEvent>('AuditEventEdge').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    cursor: t.string({ resolve: (e) => encodeCursor(e.seq) }),
    node: t.field({ type: AuditEventRef, resolve: (e) => e }),
  }),
});

export const AuditEventConnectionRef = builder.objectRef<AuditPage>('AuditEventConnection').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    edges: t.field({ type: [AuditEventEdgeRef], resolve: (page) => page.events }),
    pageInfo: t.field({
      type: PageInfoRef,
      resolve: (page) => ({ hasNextPage: page.hasNextPage, endCursor: page.events.length ? encodeCursor(page.events.at(-1)!.seq) : null }),
    }),
  }),
});

export const AuditEventFilter = builder.inputType('AuditEventFilter', {
  fields: (t) => ({
    actions: t.stringList({ description: 'Any of these actions, e.g. session.sign_in_failed.' }),
    actorId: t.id(),
    targetId: t.id(),
    outcome: t.field({ type: AuditOutcomeEnum }),
    ip: t.string(),
    since: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    until: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

/** Loads the actors of a page at once; they reach the request's identity map, so `actor` resolves from it. */
async function withActors(em: EntityManager, page: AuditPage): Promise<AuditPage> {
  const ids = [...new Set(page.events.map((e) => e.actorId).filter((id): id is string => id !== null))];
  if (ids.length) await em.find(User, { id: { $in: ids } });
  return page;
}

/** A page of the journal and its actors; opening a search (the first page) is itself journalled. */
async function readJournal({ em, journal, viewer }: ViewerWork, search: { filter: AuditFilter; first: number; after: string | null; asked: unknown }): Promise<AuditPage> {
  const page = await withActors(em, await searchAuditEvents(em, search.filter, search.first, search.after));
  if (!search.after && !readsJournalledApart(viewer)) await journal.record({ action: 'audit.read', details: { filter: search.asked } });
  return page;
}

builder.queryField('auditEvents', (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description: `The tenant's journal, newest first; at most ${MAX_PAGE_SIZE} per page. Opening a search is itself journalled.`,
    authScopes: { permission: 'audit.read' },
    args: {
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
      filter: t.arg({ type: AuditEventFilter }),
    },
    resolve: async (_root, args, ctx) => {
      const filter = parseInput(AuditFilterSchema, args.filter ?? {});
      // One transaction for the page, its actors and the entry recording the read: outside one, each
      // read would be a transaction of its own (the tenant setting row-level security needs is local to one).
      const search = { filter, first: args.first ?? 50, after: args.after ?? null, asked: args.filter ?? {} };
      return asViewer(ctx, readJournal, search, { requestEm: true });
    },
  }),
);

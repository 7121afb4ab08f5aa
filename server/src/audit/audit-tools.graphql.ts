import { builder, enumOf, sensitive } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { AuditEventFilter } from './audit.graphql.ts';
import { EXPORT_FORMATS, type AuditExport } from './audit-export.entity.ts';
import { type Checkpoint, verifiedCheckpoints } from './checkpoints.ts';
import { EXPORT_SCOPES, exportPath, prepareExport } from './export.ts';
import { auditStatistics, type AuditStatistics, type TimeBucket } from './statistics.ts';
import { type ChainReport, verifyChain } from './verify.ts';

const CheckpointRef = builder.objectRef<Checkpoint>('AuditCheckpoint').implement({
  description: 'A signed statement of the journal head, kept outside the database.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    hash: t.exposeString('hash'),
    time: t.field({ type: 'DateTime', resolve: (c) => new Date(c.time) }),
  }),
});

const ChainReportRef = builder.objectRef<ChainReport>('AuditChainVerification').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checkedFromSeq: t.expose('checkedFromSeq', { type: 'SafeInt' }),
    checkedToSeq: t.expose('checkedToSeq', { type: 'SafeInt' }),
    firstBadSeq: t.expose('firstBadSeq', { type: 'SafeInt', nullable: true }),
    problem: t.exposeString('problem', { nullable: true }),
    lastCheckpoint: t.field({ type: CheckpointRef, nullable: true, resolve: (r) => r.lastCheckpoint }),
  }),
});

const TimeBucketRef = builder.objectRef<TimeBucket>('TimeBucket').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({ start: t.expose('start', { type: 'DateTime' }), count: t.exposeInt('count') }),
});

const AttentionRef = builder.objectRef<AuditStatistics['attention']>('AttentionCounts').implement({
  description: 'Over the last 24 hours.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    failedSignIns: t.exposeInt('failedSignIns'),
    lockouts: t.exposeInt('lockouts'),
    tokenReuse: t.exposeInt('tokenReuse'),
    newDevices: t.exposeInt('newDevices'),
    revocations: t.exposeInt('revocations'),
  }),
});

const StatisticsRef = builder.objectRef<AuditStatistics>('AuditStatistics').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    eventsPerMinute: t.field({ type: [TimeBucketRef], description: 'The last hour, oldest first.', resolve: (s) => s.eventsPerMinute }),
    failedSignInsPerHour: t.field({ type: [TimeBucketRef], description: 'The last day, oldest first.', resolve: (s) => s.failedSignInsPerHour }),
    attention: t.field({ type: AttentionRef, resolve: (s) => s.attention }),
  }),
});

const FormatEnum = enumOf('AuditExportFormat', EXPORT_FORMATS);

const AuditExportRef = builder.objectRef<AuditExport>('AuditExport').implement({
  description: 'GET the url with your session to download the file: once, within a minute.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    url: t.string({ resolve: (e) => exportPath(e.id) }),
    format: t.field({ type: FormatEnum, resolve: (e) => e.format }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  verifyAuditChain: t.field({
    type: ChainReportRef,
    description: "Recomputes the journal's hash chain and compares it with the latest signed checkpoint.",
    authScopes: { permission: 'audit.read' },
    args: { fromSeq: t.arg({ type: 'SafeInt' }), toSeq: t.arg({ type: 'SafeInt' }) },
    resolve: (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const trail = verifiedCheckpoints(ctx.services.config.checkpointsDir, ctx.services.keys.auditVerifyKeys, viewer.tenantId);
      return verifyChain(ctx.services.db.forTenant(viewer.tenantId), trail, args);
    },
  }),
  auditStatistics: t.field({
    type: StatisticsRef,
    authScopes: { permission: 'audit.read' },
    resolve: (_root, _args, ctx) => auditStatistics(tenantEmOf(ctx), ctx.services.clock.now()),
  }),
}));

builder.mutationField('exportAuditEvents', (t) =>
  t.field({
    type: AuditExportRef,
    description: 'Prepares a CSV or JSONL export of the events matching the filter; the download is journalled.',
    authScopes: sensitive(EXPORT_SCOPES),
    args: { filter: t.arg({ type: AuditEventFilter }), format: t.arg({ type: FormatEnum, required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, prepareExport, { filter: args.filter ?? {}, format: args.format }),
  }),
);

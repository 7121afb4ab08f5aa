import { builder, enumOf, sensitive } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { AuditEventFilter } from './audit.graphql.ts';
import { EXPORT_FORMATS, type AuditExport } from './audit-export.entity.ts';
import { type Checkpoint, readCheckpoints } from './checkpoints.ts';
import { TrailUnreachable, catchUpTrail, sharedTrail } from './shared-trail.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { EXPORT_SCOPES, exportPath, prepareExport } from './export.ts';
import { prepareEvidence } from './evidence.ts';
import { type PublishedSigningKey, publishedSigningKeys } from './signing-keys.ts';
import { auditStatistics, type AuditStatistics, type TimeBucket } from './statistics.ts';
import { type ChainReport, journalBrokenChain, verifyChain } from './verify.ts';

const CheckpointRef = builder.objectRef<Checkpoint>('AuditCheckpoint').implement({
  description: 'A signed statement of the journal head, kept outside the database.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    hash: t.exposeString('hash'),
    time: t.field({ type: 'DateTime', resolve: (c) => new Date(c.time) }),
  }),
});

const SignedCheckpointRef = builder.objectRef<Checkpoint>('SignedAuditCheckpoint').implement({
  description: 'A checkpoint as signed: Ed25519 by the key `keyId` names, over the RFC 8785 JSON of tenantId, seq, hash, time, previousSignature and keyId.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    hash: t.exposeString('hash'),
    time: t.exposeString('time', { description: 'As signed (ISO 8601).' }),
    previousSignature: t.exposeString('previousSignature', { nullable: true }),
    keyId: t.exposeString('keyId', { nullable: true }),
    signature: t.exposeString('signature', { description: 'Base64.' }),
  }),
});

const SigningKeyRef = builder.objectRef<PublishedSigningKey>('AuditSigningKey').implement({
  description: 'As /.well-known/vigil-audit-keys.json publishes it: a checkpoint counts when signed by a key dated within its validity.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeString('id'),
    publicKeyPem: t.exposeString('publicKeyPem', { description: 'Ed25519, SPKI PEM.' }),
    notBefore: t.exposeString('notBefore', { nullable: true, description: 'ISO 8601; null: from the beginning.' }),
    notAfter: t.exposeString('notAfter', { nullable: true, description: 'ISO 8601; null: still signing.' }),
  }),
});

/** What the server hands out: its trail as it keeps it (each checkpoint with its company). */
interface ServedTrail {
  tenantId: string;
  checkpoints: Checkpoint[];
  keys: PublishedSigningKey[];
}

const TrailRef = builder.objectRef<ServedTrail>('AuditTrail').implement({
  description: 'Save it as JSON beside an unfiltered JSONL export: `npx vigil-verify --events … --trail …` checks the two without Vigil (or download an evidence bundle: exportAuditEvidence).',
  authScopes: { authenticated: true },
  fields: (t) => ({
    tenantId: t.exposeID('tenantId'),
    checkpoints: t.field({ type: [SignedCheckpointRef], resolve: (trail) => trail.checkpoints }),
    keys: t.field({ type: [SigningKeyRef], description: 'Every key whose checkpoints count: the current one and those retired by rotations.', resolve: (trail) => trail.keys }),
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
    securityAlerts: t.exposeInt('securityAlerts', { description: 'security.alert events: what the detectors raised.' }),
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

/** The bucket's trail out of reach: said as such, never a verification against less than the trail. */
function unreachableTrail(error: unknown): never {
  if (error instanceof TrailUnreachable) throw clientError(ErrorCode.SERVICE_UNAVAILABLE, 'The checkpoint trail in the external bucket cannot be read right now, so the journal is not verified against it. Try again shortly.');
  throw error;
}

builder.queryFields((t) => ({
  verifyAuditChain: t.field({
    type: ChainReportRef,
    description: "Recomputes the journal's hash chain and compares it with the latest signed checkpoint.",
    authScopes: { permission: 'audit.read' },
    args: { fromSeq: t.arg({ type: 'SafeInt' }), toSeq: t.arg({ type: 'SafeInt' }) },
    resolve: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const trail = await sharedTrail(ctx.services.config, ctx.services.keys.auditVerifyKeys, viewer.tenantId).catch(unreachableTrail);
      const report = await verifyChain(ctx.services.db.forTenant(viewer.tenantId), trail, args);
      ctx.services.metrics.chainVerified('api', report.ok);
      await journalBrokenChain(ctx.services, viewer.tenantId, report);
      return report;
    },
  }),
  auditTrail: t.field({
    type: TrailRef,
    description: "The journal's signed checkpoints, oldest first, and the public keys that sign them: what an offline verification needs.",
    authScopes: { permission: 'audit.read' },
    resolve: async (_root, _args, ctx) => {
      const { tenantId } = viewerOf(ctx);
      await catchUpTrail(ctx.services.config, tenantId).catch((error: unknown) => unreachableTrail(new TrailUnreachable(error)));
      const keys = await publishedSigningKeys(ctx.services.db.unscoped());
      return { tenantId, checkpoints: readCheckpoints(ctx.services.config.checkpointsDir, tenantId), keys };
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

builder.mutationField('exportAuditEvidence', (t) =>
  t.field({
    type: AuditExportRef,
    description:
      'Prepares an evidence bundle of the journal from fromSeq (default 1) to toSeq (default: its end now): the events as the chain hashes them, the signed checkpoints around them and the public keys, checkable offline with `npx vigil-verify <file>`. The download is journalled.',
    authScopes: sensitive(EXPORT_SCOPES),
    args: { fromSeq: t.arg({ type: 'SafeInt' }), toSeq: t.arg({ type: 'SafeInt' }) },
    resolve: (_root, args, ctx) => asViewer(ctx, prepareEvidence, { fromSeq: args.fromSeq, toSeq: args.toSeq }),
  }),
);

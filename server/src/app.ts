import { type RequestListener, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { existsSync } from 'node:fs';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { type Database, type DatabaseOptions, databaseOptionsFrom, openDatabase } from './db/database.ts';
import { CredentialLookup } from './access/credential-lookup.ts';
import { Locators } from './db/locators.ts';
import { createFairUse } from './access/fair-use.ts';
import { createEventBus, createRedisClient, probeRedis, whenReady } from './event-bus.ts';
import { EventLoopLoad } from './event-loop.ts';
import { createGraphQLServer } from './http/graphql-server.ts';
import { createHttpsServer, createRedirectServer } from './http/https-server.ts';
import { LiveSockets } from './http/live-sockets.ts';
import { allowedOrigins } from './http/origins.ts';
import { compileTrustedProxies } from './http/prepare-request.ts';
import { attachWebSockets } from './http/websocket.ts';
import { type Handler, createRequestListener } from './http/server.ts';
import { type Logger, createLogger } from './logger.ts';
import { schema } from './schema.ts';
import { rotateAgedApiKeys } from './api-keys/rotation-job.ts';
import { writeCheckpoints } from './audit/checkpoint-job.ts';
import { applyJournalRetention } from './audit/retention.ts';
import { runDueCriticalOperations } from './critical-ops/critical-ops.ts';
import { exportRoute } from './http/export-route.ts';
import { auditKeysRoute } from './http/audit-keys-route.ts';
import { AUDIT_KEYS_PATH, recordSigningKeys } from './audit/signing-keys.ts';
import { OPS_ENDPOINT, opsRoute } from './http/ops-route.ts';
import { METRICS_PATH, metricsOnMainListener, metricsServer } from './http/metrics-route.ts';
import { createMetrics } from './metrics/metrics.ts';
import { backupFacts } from './backups/status.ts';
import { every } from './jobs/lease.ts';
import { startNotifications } from './notifications/notifier.ts';
import { runBackupSchedule } from './backups/schedule.ts';
import { pruneIdempotencyKeys } from './idempotency/idempotency.ts';
import { type ServerKeys, loadServerKeys } from './server-keys.ts';
import { reapplyKeptPurges, reportReapplied } from './critical-ops/reapply-purges.ts';
import { LiveFeeds, gapReader } from './audit/live-feeds.ts';
import { AlertInspector, sweepRecentEvents } from './alerts/inspector.ts';
import { WebhookDeliverer } from './webhooks/deliverer.ts';
import { SyslogStream } from './syslog/stream.ts';
import type { Services } from './services.ts';
import { PasswordHasher } from './users/password-hasher.ts';

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Overrides the database the config names (tests use one database per file). */
  database?: DatabaseOptions;
  /** An already open database, shared with another instance in this process (embedded multi-instance tests). */
  sharedDatabase?: Database;
  /** Background jobs (API key rotation, audit checkpoints); tests run them by hand. */
  jobs?: boolean;
}

export interface RunningApp {
  readonly url: string;
  /** The plain HTTP listener that redirects to HTTPS, when HTTP_REDIRECT_PORT is set. */
  readonly redirectUrl: string | null;
  /** METRICS_PORT's listener's /metrics, when it has one. */
  readonly metricsUrl: string | null;
  readonly liveSockets: LiveSockets;
  readonly services: Services;
  readonly httpServer: Server;
}

/** Wires Vigil together without side effects; start() opens the database and listens, stop() undoes it. */
export function buildApp(config: Config, options: AppOptions = {}) {
  let running: (RunningApp & { close(): Promise<void> }) | null = null;
  return {
    async start(): Promise<RunningApp> {
      running = await startApp(config, options);
      return running;
    },
    async stop(): Promise<void> {
      await running?.close();
      running = null;
    },
  };
}

/** What the owner's connection does each time Vigil opens its database: purges re-applied, the signing keys recorded. */
function ownerOpening(config: Config, keys: ServerKeys, clock: Clock, log: Logger): DatabaseOptions['afterMigrations'] {
  const reapply = reapplyKeptPurges(config, keys.auditVerifyKeys, () => clock.now(), reportReapplied(log));
  const record = recordSigningKeys(keys, () => clock.now());
  return async (owner) => {
    await reapply(owner);
    await record(owner.fork());
  };
}

async function startApp(config: Config, options: AppOptions) {
  const log = options.logger ?? createLogger(config.logLevel);
  const redisReachable = config.redisUrl ? await probeRedis(config.redisUrl, config.redisCaFile) : false;
  if (config.redisUrl && !redisReachable) log.warn('Redis unreachable at start');
  const clock = options.clock ?? systemClock;
  const keys = loadServerKeys(config);
  const db =
    options.sharedDatabase ??
    (await openDatabase({ ...databaseOptionsFrom(config), log, afterMigrations: ownerOpening(config, keys, clock, log), ...options.database }));
  const bus = createEventBus({ log, redisUrl: config.redisUrl, redisCaFile: config.redisCaFile, channelPrefix: config.redisChannelPrefix });
  const budgetRedis = config.redisUrl ? createRedisClient(config.redisUrl, config.redisCaFile) : null;
  // Reachable: serve once connected, so that the first requests count in the shared budget already.
  if (budgetRedis && redisReachable) await whenReady(budgetRedis, 2000);
  const eventLoop = new EventLoopLoad();
  let liveFeeds: LiveFeeds | null = null;
  let hasher: PasswordHasher | null = null;
  let webhooks: WebhookDeliverer;
  const metrics = createMetrics({
    liveSubscribers: () => liveFeeds?.subscribers ?? 0,
    hashing: () => ({ running: hasher?.running ?? 0, waiting: hasher?.waiting ?? 0 }),
    backups: () => backupFacts({ config, db, clock }),
  });
  const fairUse = createFairUse({ rules: config.fairUse, clock, redis: budgetRedis, prefix: config.redisChannelPrefix, log });
  const services: Services = {
    config,
    clock,
    db,
    locators: new Locators(db),
    credentials: new CredentialLookup(db),
    hasher: (hasher = new PasswordHasher(config.passwordHash, config.passwordHashConcurrency, { threadpoolIsCap: config.threadpoolSize <= config.passwordHashConcurrency, load: eventLoop })),
    keys,
    bus,
    fairUse,
    liveFeeds: (liveFeeds = new LiveFeeds(bus, gapReader(db), (subscribers) => metrics.liveHandedOut(subscribers))),
    log,
    eventLoop,
    metrics,
    alerts: new AlertInspector(() => services),
    webhooks: (webhooks = new WebhookDeliverer(() => services)),
    syslog: config.syslog ? new SyslogStream(config.syslog, log) : null,
  };
  const trust = compileTrustedProxies(config.trustedProxies);
  const tls = Boolean(config.tls);
  // Listen first: the default origin allowlist is this server's own origin, port included.
  let listener: RequestListener = (_req, res) => res.writeHead(503).end();
  const https = config.tls ? createHttpsServer(config.tls, log, (req, res) => listener(req, res)) : null;
  const httpServer: Server = https?.server ?? createServer((req, res) => listener(req, res));
  await listen(httpServer, config.port, config.host);
  const { port } = httpServer.address() as AddressInfo;
  const url = urlOf(tls ? 'https' : 'http', config.host, port);
  const origins = allowedOrigins(config, port);
  const redirect = config.httpRedirectPort === undefined ? null : createRedirectServer(origins.filter((o) => o.startsWith('https://')));
  if (redirect) await listen(redirect, config.httpRedirectPort!, config.host);
  const yoga = createGraphQLServer(services, schema, origins);
  const routes = [
    { prefix: '/audit/exports/', handle: exportRoute(services, { trust, tls }) },
    { prefix: AUDIT_KEYS_PATH, handle: auditKeysRoute(services) },
    { prefix: OPS_ENDPOINT, handle: opsRoute(services, origins, { trust, tls }) },
    { prefix: METRICS_PATH, handle: metricsOnMainListener(config, metrics) },
  ];
  const metricsListening = metricsServer(config, metrics, log);
  const metricsListener = metricsListening?.server ?? null;
  if (metricsListener) await listen(metricsListener, config.metrics.port!, config.host);
  const requireTls = config.production && !tls;
  listener = createRequestListener(services, yoga, { trust, tls, requireTls, routes, dashboard: dashboardHandler(config.dashboardDir) });
  const liveSockets = new LiveSockets(services, config.accessChangePollMs);
  const webSockets = attachWebSockets(services, httpServer, yoga, liveSockets, { path: '/graphql', trust, tls, requireTls, allowedOrigins: origins });
  log.info({ url, embeddedDatabase: db.embedded }, 'Vigil is listening');
  const stopJobs = options.jobs === false || !config.backgroundJobs ? () => {} : startJobs(services, webhooks!);
  return {
    url,
    redirectUrl: redirect ? urlOf('http', config.host, (redirect.address() as AddressInfo).port) : null,
    metricsUrl: metricsListener ? `${urlOf(tls ? 'https' : 'http', config.host, (metricsListener.address() as AddressInfo).port)}${METRICS_PATH}` : null,
    services,
    httpServer,
    liveSockets,
    async close() {
      stopJobs();
      https?.stopWatching();
      metricsListening?.stopWatching();
      liveSockets.stop();
      services.liveFeeds.close();
      await webSockets.close();
      for (const server of [httpServer, redirect, metricsListener].filter((s): s is Server => s !== null)) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      // Detections of what was committed before the last request, and a delivery under way, finish before the database closes.
      await webhooks.stop();
      await services.alerts.idle();
      if (services.syslog instanceof SyslogStream) {
        await services.syslog.drained();
        services.syslog.close();
      }
      await bus.close();
      await fairUse.close();
      budgetRedis?.disconnect();
      if (!options.sharedDatabase) await db.close();
    },
  };
}

function urlOf(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function startJobs(services: Services, webhooks: WebhookDeliverer): () => void {
  const { config, log } = services;
  const failed = (job: string) => (error: unknown) => log.error({ err: error, job }, 'background job failed');
  const interval = config.apiKeyRotationIntervalSeconds;
  const checkpoints = config.auditCheckpointIntervalSeconds;
  const stops = [
    every(interval, () => rotateAgedApiKeys(services, Math.max(1, interval - 5)), failed('api key rotation')),
    every(checkpoints, () => writeCheckpoints(services, Math.max(1, checkpoints - 5)), failed('audit checkpoints')),
    // No lease: each operation is taken under its row lock, so instances running this at once do each one once.
    every(config.criticalOperationsIntervalSeconds, () => runDueCriticalOperations(services), failed('critical operations')),
    every(3600, () => pruneIdempotencyKeys(services, 3500), failed('idempotency keys')),
    every(3600, () => applyJournalRetention(services, 3500), failed('journal retention')),
    // Twice the interval back: an event committed by an instance that died before detecting is inspected again.
    every(60, () => sweepRecentEvents(services, 120, 55), failed('security alert sweep')),
    startNotifications(services, failed('notifications')),
    webhooks.start(failed('webhooks')),
    // Not at start: a copy and its drill are the heaviest job, and a restart loop must not take one each time.
    every(600, () => runBackupSchedule(services), failed('backups'), 600),
  ];
  return () => stops.forEach((stop) => stop());
}

/** The strict policy of both built apps: nothing but this origin's scripts, styles and connections. */
const DASHBOARD_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The built Svelte dashboard, with index.html for client-side routes; absent before `npm run build`. Under
 * /ops/ the operators' console, a second app of the same build, whose routes fall back to ops/index.html.
 */
function dashboardHandler(dir: string): Handler | null {
  if (!existsSync(dir)) return null;
  const options = { etag: true, setHeaders: (res: ServerResponse) => res.setHeader('Content-Security-Policy', DASHBOARD_CSP) };
  const dashboard = sirv(dir, { ...options, single: true });
  const opsConsole = sirv(dir, { ...options, single: 'ops/index.html' });
  return (req, res, next) => (/^\/ops(?:[/?#]|$)/.test(req.url ?? '') ? opsConsole : dashboard)(req, res, next);
}

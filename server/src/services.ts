import type { FairUse } from './access/fair-use.ts';
import type { LiveFeeds } from './audit/live-feeds.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { CredentialLookup } from './access/credential-lookup.ts';
import type { Locators } from './db/locators.ts';
import type { EventBus } from './event-bus.ts';
import type { EventLoopLoad } from './event-loop.ts';
import type { Logger } from './logger.ts';
import type { ServerKeys } from './server-keys.ts';
import type { SecurityDetection } from './alerts/detection.ts';
import type { RecordedEvent } from './audit/journal.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { PasswordHasher } from './users/password-hasher.ts';

/** Everything a request handler or job may use; built once by buildApp, passed explicitly. */
export interface Services {
  readonly config: Config;
  readonly clock: Clock;
  readonly db: Database;
  readonly locators: Locators;
  readonly credentials: CredentialLookup;
  readonly hasher: PasswordHasher;
  readonly keys: ServerKeys;
  readonly bus: EventBus;
  /** Operations per session, API key and address, shared across instances through Redis when it is there. */
  readonly fairUse: FairUse;
  /** Each tenant's live journal, followed once per instance and shared by its subscribers. */
  readonly liveFeeds: LiveFeeds;
  readonly log: Logger;
  /** Whether the event loop is busy serving: the hasher and the live journal's writes yield to it. */
  readonly eventLoop: EventLoopLoad;
  /** This instance's Prometheus figures (metrics/). */
  readonly metrics: Metrics;
  /** The security detectors, handed every committed event (alerts/). */
  readonly alerts: SecurityDetection;
  /** The webhook deliverer of this instance, woken by what it commits (webhooks/). */
  readonly webhooks: { wake(): void };
  /** The operator-wide syslog stream of what this instance commits (syslog/), when SYSLOG_URL is set. */
  readonly syslog: { send(events: readonly RecordedEvent[]): void } | null;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningApp, buildApp } from '../../server/src/app.ts';
import { MovableClock } from '../../server/src/clock.ts';
import { type Config, loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/logger.ts';
import { type TestDatabase, freshDatabase } from './database.ts';
import { GraphQLClient } from './client.ts';

export interface TestVigil extends RunningApp {
  clock: MovableClock;
  config: Config;
  database: TestDatabase;
  client(): GraphQLClient;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  database?: TestDatabase;
  clock?: MovableClock;
  /** Another instance's open database: two instances, one embedded database. */
  shareWith?: TestVigil;
}

/**
 * Tests drive one session or address far beyond a person's pace: budgets out of their way, unless a test
 * sets its own (test/server/fair-use-api.test.ts).
 */
const UNMETERED = { FAIR_USE_SESSION: '100000/1000000', FAIR_USE_API_KEY: '100000/1000000', FAIR_USE_ADDRESS: '100000/1000000' };

/** A real Vigil on a random port, its own database and its own secrets directory. */
export async function startVigil(options: StartOptions = {}): Promise<TestVigil> {
  const home = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const config = loadConfig({ PORT: '0', VIGIL_HOME: home, LOG_LEVEL: 'silent', DASHBOARD_DIR: join(home, 'no-dashboard'), ...UNMETERED, ...options.env });
  const database = options.shareWith?.database ?? options.database ?? freshDatabase();
  const clock = options.clock ?? new MovableClock();
  const app = buildApp(config, {
    clock,
    database: database.options,
    sharedDatabase: options.shareWith && !database.ownerUrl ? options.shareWith.services.db : undefined,
    jobs: false,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
  const running = await app.start();
  return {
    ...running,
    clock,
    config,
    database,
    client: () => new GraphQLClient(running.url),
    async stop() {
      await app.stop();
      if (!options.database && !options.shareWith) await database.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

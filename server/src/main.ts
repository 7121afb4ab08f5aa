import { buildApp } from './app.ts';
import { ConfigError } from './config-error.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  // A promise nobody awaited must not take every session of every tenant down with it: logged, counted.
  let unhandledRejections = 0;
  process.on('unhandledRejection', (reason) => {
    unhandledRejections += 1;
    log.error({ err: reason, unhandledRejections }, 'unhandled promise rejection; serving on');
  });
  const app = buildApp(config, { logger: log });
  await app.start();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.stop().then(() => process.exit(0));
    });
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

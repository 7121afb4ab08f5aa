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
  console.error(startupFailure(error));
  process.exit(1);
}

/** What a person starting Vigil must read: one sentence for what they can fix, the error itself otherwise. */
function startupFailure(error: unknown): unknown {
  if (error instanceof ConfigError) return error.message;
  const { code, address, port } = error as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE') return `${address}:${port} is in use (another Vigil, or another server): stop it, or set PORT to a free port.`;
  if (code === 'EACCES' && port !== undefined) return `${address}:${port} may not be listened on by this user: set PORT above 1023.`;
  return error;
}

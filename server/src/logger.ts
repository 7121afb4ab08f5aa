import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured logs; anything that may carry a credential is redacted before it is written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['*.password', '*.token', '*.secret', '*.authorization', '*.cookie', 'req.headers.authorization', 'req.headers.cookie', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}

import type { Config } from '../config.ts';

/** The configured allowlist, or this server's own origins (as reached by name and by loopback address). */
export function allowedOrigins(config: Config, port: number): string[] {
  if (config.allowedOrigins.length) return [...config.allowedOrigins];
  const scheme = config.tls ? 'https' : 'http';
  const hosts = new Set(['localhost', '127.0.0.1', config.host.includes(':') ? `[${config.host}]` : config.host]);
  hosts.delete('0.0.0.0');
  return [...hosts].map((host) => `${scheme}://${host}:${port}`);
}

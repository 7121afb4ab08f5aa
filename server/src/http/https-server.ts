import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { type Server as HttpServer, type RequestListener, createServer } from 'node:http';
import { type Server as HttpsServer, createServer as createTlsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { TlsConfig } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" list without DHE); TLS 1.3
 * suites are configured apart by OpenSSL and all of Node's defaults are modern.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Two years, the preload list's minimum; sent on every answer given over HTTPS. */
export const HSTS = 'max-age=63072000; includeSubDomains';

const RELOAD_POLL_MS = 1000;

function secureContextOptions(tls: TlsConfig): SecureContextOptions {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    minVersion: tls.minVersion,
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
  };
}

/**
 * An HTTPS server whose certificate and key are read again when either file changes (certbot, cert-manager
 * and the like replace them in place): the next handshake gets the new certificate, no restart. A pair that
 * does not match yet (the cert written, the key not) keeps the previous one until the next change.
 */
export function createHttpsServer(tls: TlsConfig, log: Logger, listener: RequestListener): { server: HttpsServer; stopWatching(): void } {
  const server = createTlsServer(secureContextOptions(tls), listener);
  const reload = () => {
    try {
      server.setSecureContext(secureContextOptions(tls));
      log.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
    } catch (error) {
      log.warn({ err: error, certFile: tls.certFile }, 'TLS certificate or key unreadable or mismatched; keeping the previous one');
    }
  };
  const files = [tls.certFile, tls.keyFile];
  for (const file of files) watchFile(file, { interval: RELOAD_POLL_MS, persistent: false }, reload);
  return { server, stopWatching: () => files.forEach((file) => unwatchFile(file, reload)) };
}

/**
 * The plain HTTP listener: a 308 to the same path on HTTPS, nothing else (no body, no cookie, no API). The
 * target is one of the allowed origins, never a host taken from the request, so it cannot redirect elsewhere.
 */
export function createRedirectServer(httpsOrigins: readonly string[]): HttpServer {
  return createServer((req, res) => {
    const location = `${redirectOrigin(req.headers.host, httpsOrigins)}${req.url?.startsWith('/') ? req.url : '/'}`;
    res.writeHead(308, { Location: location, 'Content-Length': '0', Connection: 'close' }).end();
  });
}

function redirectOrigin(host: string | undefined, origins: readonly string[]): string {
  const hostname = host ? safeHostname(host) : null;
  return origins.find((origin) => new URL(origin).hostname === hostname) ?? origins[0];
}

function safeHostname(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

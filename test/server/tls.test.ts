import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../server/src/config-error.ts';
import { loadConfig } from '../../server/src/config.ts';
import { openDatabase } from '../../server/src/db/database.ts';
import { probeRedis } from '../../server/src/event-bus.ts';
import { type CertificateAuthority, type IssuedCertificate, makeCertificateAuthority } from '../support/certs.ts';
import { STRONG_PASSWORD, uniqueSlug } from '../support/factories.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Every hop encrypted: browser → Vigil over HTTPS (TLS 1.2+, modern suites, HSTS, a plain listener that
 * only redirects, certificates reloaded in place), Vigil → PostgreSQL with verify-full, Vigil → Redis over
 * rediss://. The CA, the certificates, the TLS-only PostgreSQL cluster and Redis are all the test's own.
 */
let ca: CertificateAuthority;
let serverCert: IssuedCertificate;
let cluster: PostgresCluster;
let redis: RedisServer;
let vigil: TestVigil;
let tlsDir: string;
let caPem: string;

const pgUrl = (host: string, params: string) => `postgresql://postgres@${host}:${cluster.port}/vigil?${params}`;

beforeAll(async () => {
  ca = await makeCertificateAuthority();
  caPem = readFileSync(ca.caFile, 'utf8');
  serverCert = await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
  const tls = { certFile: serverCert.certFile, keyFile: serverCert.keyFile, caFile: ca.caFile };
  [cluster, redis] = await Promise.all([startPostgresCluster({ ssl: tls, hostSslOnly: true }), startRedisServer({ tls, tlsOnly: true })]);
  // Vigil's own certificate files, in a directory of their own so that the rotation test can replace them.
  tlsDir = mkdtempSync(join(tmpdir(), 'vigil-https-'));
  copyFileSync(serverCert.certFile, join(tlsDir, 'cert.pem'));
  copyFileSync(serverCert.keyFile, join(tlsDir, 'key.pem'));
  const databaseUrl = pgUrl('localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.caFile)}`);
  vigil = await startVigil({
    env: { TLS_CERT_FILE: join(tlsDir, 'cert.pem'), TLS_KEY_FILE: join(tlsDir, 'key.pem'), HTTP_REDIRECT_PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url, REDIS_CA_FILE: ca.caFile },
    database: { options: { databaseUrl, dataDir: 'memory://' }, ownerUrl: cluster.superuserUrl('vigil'), drop: async () => {} },
  });
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await Promise.all([cluster?.destroy(), redis?.stop(), ca?.destroy()]);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** HTTPS to Vigil by the name its certificate holds, trusting the test's CA. */
function overHttps(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const url = new URL(vigil.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: 'localhost', port: url.port, path, method: init.method ?? 'GET', headers: init.headers, ca: caPem }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

function graphql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return overHttps('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
}

/** A TLS handshake with Vigil: the negotiated protocol and certificate serial, or the error. */
function handshake(options: ConnectionOptions): Promise<{ protocol: string | null; serial: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', servername: 'localhost', port: Number(new URL(vigil.url).port), ca: caPem, ...options }, () => {
      resolve({ protocol: socket.getProtocol(), serial: socket.getPeerCertificate().serialNumber });
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

describe('Vigil → PostgreSQL and Redis', () => {
  test('every application connection to PostgreSQL is TLS, and Redis answers over TLS', async () => {
    const signedUp = await graphql('mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }', {
      i: { tenantName: 'Acme', tenantSlug: uniqueSlug(), email: 'owner@acme.test', password: STRONG_PASSWORD, displayName: 'Olga' },
    });
    expect(JSON.parse(signedUp.body).errors).toBeUndefined();
    const connections = await cluster.query<{ ssl: boolean; version: string }>(
      `select s.ssl, s.version from pg_stat_ssl s join pg_stat_activity a using (pid) where a.usename = 'vigil_app'`,
    );
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.every((c) => c.ssl && /^TLSv1\.[23]$/.test(c.version))).toBe(true);
    const ready = await overHttps('/readyz');
    expect({ status: ready.status, body: JSON.parse(ready.body) }).toEqual({ status: 200, body: { status: 'ok' } });
    await expect(probeRedis(redis.url, ca.caFile)).resolves.toBe(true);
  });

  test('PostgreSQL: a wrong host name, a missing CA and plain text each refuse the start with a clear line', async () => {
    const refusal = (url: string) => openDatabase({ databaseUrl: url, dataDir: 'memory://' }).then(async (db) => (await db.close(), 'started'), (e: Error) => e);
    const wrongHost = await refusal(pgUrl('127.0.0.1', `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.caFile)}`));
    expect(wrongHost).toBeInstanceOf(ConfigError);
    expect((wrongHost as Error).message).toMatch(/^Refusing to start: PostgreSQL at DATABASE_URL \(127\.0\.0\.1:\d+\): the server's certificate is not valid for the name 127\.0\.0\.1 \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    const noCa = await refusal(pgUrl('localhost', 'sslmode=verify-full'));
    expect((noCa as Error).message).toMatch(/the server's certificate is not signed by a trusted CA \(\w+\); name the CA with sslrootcert=<file> or DATABASE_CA_FILE/);
    const plain = await refusal(pgUrl('localhost', 'sslmode=disable'));
    expect((plain as Error).message).toMatch(/the server accepts TLS connections only; add sslmode=verify-full/);
    // The CA from the setting works as from the URL.
    const fromSetting = await openDatabase({ databaseUrl: pgUrl('localhost', 'sslmode=verify-full'), caFile: ca.caFile, dataDir: 'memory://' });
    await fromSetting.close();
  });

  test('Redis: a wrong host name, a missing CA and plain text each refuse the start with a clear line', async () => {
    const tlsPort = redis.tlsPort!;
    await expect(probeRedis(`rediss://127.0.0.1:${tlsPort}`, ca.caFile)).rejects.toThrow(/Redis at REDIS_URL \(127\.0\.0\.1:\d+\): the server's certificate does not verify/);
    await expect(probeRedis(`rediss://localhost:${tlsPort}`)).rejects.toThrow(/the server's certificate does not verify \(\w+\); check the host name and REDIS_CA_FILE/);
    await expect(probeRedis(`redis://localhost:${tlsPort}`)).rejects.toThrow(/closed the connection without answering; if it speaks TLS only, use rediss:\/\//);
  });

  test('settings that would weaken TLS are refused everywhere; in production every plain hop is', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return null;
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
    };
    expect(refused({ DATABASE_URL: 'postgres://o@db.example/vigil?sslmode=require' })).toMatch(/sslmode=require is not supported; use sslmode=verify-full/);
    expect(refused({ DATABASE_URL: 'postgres://o@db.example/vigil?sslmode=prefer' })).toMatch(/sslmode=prefer is not supported/);
    expect(refused({ ALLOWED_ORIGINS: 'https://app.example,null' })).toMatch(/"null" is never allowed/);
    const production = { NODE_ENV: 'production', TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' };
    expect(refused({ NODE_ENV: 'production' })).toMatch(/^Refusing to start in production: the HTTP hop is plain text; set TLS_CERT_FILE/);
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@db.example/vigil' })).toMatch(/the PostgreSQL hop \(DATABASE_URL\) is plain text over a network; add sslmode=verify-full/);
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@db.example/vigil?sslmode=verify-full', APP_DATABASE_URL: 'postgres://vigil_app@db.example/vigil' })).toMatch(/the PostgreSQL hop \(APP_DATABASE_URL\) is plain text over a network/);
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@db.example/vigil?sslmode=verify-full', BACKUP_DATABASE_URL: 'postgres://dumper@db.example/vigil' })).toMatch(/the PostgreSQL hop \(BACKUP_DATABASE_URL\) is plain text over a network/);
    // The external bucket is HTTPS everywhere, not only in production.
    expect(refused({ OFFSITE_S3_URL: 'http://minio.example:9000/backups' })).toMatch(/OFFSITE_S3_URL: an https:\/\/ URL/);
    expect(refused({ ...production, REDIS_URL: 'redis://cache.example:6379' })).toMatch(/the Redis hop \(REDIS_URL\) is plain text over a network; use rediss:\/\//);
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@db.example/vigil?sslmode=verify-full', REDIS_URL: 'rediss://cache.example:6380' })).toBeNull();
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@%2Fvar%2Frun%2Fpostgresql/vigil' })).toBeNull();
    // The same host is no network: a sidecar on loopback needs no TLS.
    expect(refused({ ...production, DATABASE_URL: 'postgres://o@127.0.0.1:5432/vigil', REDIS_URL: 'redis://localhost:6379' })).toBeNull();
    expect(refused({ NODE_ENV: 'production', TRUSTED_PROXIES: '10.0.0.0/8', PROXY_TERMINATES_TLS: 'true' })).toBeNull();
  });
});

describe('browser → Vigil', () => {
  test('TLS 1.1 is refused, as is a CBC suite on TLS 1.2; TLS 1.2 with an AEAD suite and TLS 1.3 are served', async () => {
    expect(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toHaveProperty('error');
    expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384' })).toHaveProperty('error');
    expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toMatchObject({ protocol: 'TLSv1.2' });
    expect(await handshake({ minVersion: 'TLSv1.3' })).toMatchObject({ protocol: 'TLSv1.3' });
  });

  test("METRICS_PORT's listener speaks TLS with the server's certificate, like every other hop", async () => {
    const watched = await startVigil({ env: { TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, METRICS_PORT: '0' } });
    try {
      const url = new URL(watched.metricsUrl!);
      expect(url.protocol).toBe('https:');
      const scrape = (ca: string | undefined) =>
        new Promise<{ status: number; body: string } | string>((resolve) => {
          const req = httpsRequest({ host: '127.0.0.1', servername: 'localhost', port: Number(url.port), path: '/metrics', ca }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
          req.end();
        });
      expect(await scrape(undefined)).toMatch(/^error/);
      const answer = await scrape(caPem);
      expect(answer).toMatchObject({ status: 200, body: expect.stringContaining('vigil_graphql_operations_total') });
    } finally {
      await watched.stop();
    }
  });

  test('TLS_MIN_VERSION=TLSv1.3 refuses TLS 1.2', async () => {
    const strict = await startVigil({ env: { TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_MIN_VERSION: 'TLSv1.3' } });
    try {
      const port = Number(new URL(strict.url).port);
      const attempt = (options: ConnectionOptions) =>
        new Promise<string>((resolve) => {
          const socket = connect({ host: '127.0.0.1', servername: 'localhost', port, ca: caPem, ...options }, () => (resolve(socket.getProtocol() ?? ''), socket.end()));
          socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        });
      expect(await attempt({ maxVersion: 'TLSv1.2' })).toMatch(/^error/);
      expect(await attempt({})).toBe('TLSv1.3');
    } finally {
      await strict.stop();
    }
  });

  test('every answer over HTTPS carries HSTS', async () => {
    const answers = await Promise.all([
      graphql('{ viewer { isOwner } }'),
      overHttps('/livez'),
      overHttps('/readyz'),
      overHttps('/no/such/page'),
      overHttps('/graphql', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }),
    ]);
    for (const answer of answers) expect(answer.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
  });

  test('http:// answers an empty 308 to the same path on HTTPS, with no cookie, whatever is asked', async () => {
    const port = new URL(vigil.redirectUrl!).port;
    const plain = (method: string, path: string, body?: string) =>
      new Promise<Answer>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += String(chunk)));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const httpsPort = new URL(vigil.url).port;
    for (const [method, path] of [['GET', '/journal?seq=4'], ['POST', '/graphql']] as const) {
      const answer = await plain(method, path, method === 'POST' ? JSON.stringify({ query: 'mutation { signOut }' }) : undefined);
      expect({ status: answer.status, body: answer.body, location: answer.headers.location, cookie: answer.headers['set-cookie'] }).toEqual({
        status: 308,
        body: '',
        location: `https://127.0.0.1:${httpsPort}${path}`,
        cookie: undefined,
      });
    }
  });

  test("the container's health probe reads /readyz over HTTPS, trusting the CA it is given", async () => {
    const probe = (env: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        const child = spawn('node_modules/.bin/node', ['server/healthcheck.mjs'], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
        child.once('exit', resolve);
      });
    const port = new URL(vigil.url).port;
    expect(await probe({ PORT: port, TLS_CERT_FILE: 'set', HEALTHCHECK_CA_FILE: ca.caFile })).toBe(0);
    expect(await probe({ PORT: port, TLS_CERT_FILE: 'set' })).toBe(1);
    expect(await probe({ PORT: port })).toBe(1);
  });

  test('a rotated certificate is served to the next client, without a restart', async () => {
    const before = await handshake({});
    expect(before).toMatchObject({ serial: serverCert.serial });
    const next = await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'], name: 'rotated' });
    copyFileSync(next.keyFile, join(tlsDir, 'key.pem'));
    copyFileSync(next.certFile, join(tlsDir, 'cert.pem'));
    await waitFor(async () => {
      const now = await handshake({});
      return 'serial' in now && now.serial === next.serial;
    }, 10_000, 200);
    expect(next.serial).not.toBe(serverCert.serial);
  });
});

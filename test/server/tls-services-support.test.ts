import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateAuthority, type IssuedCertificate, makeCertificateAuthority } from '../support/certs.ts';
import { type PostgresCluster, startPostgresCluster } from '../support/pg-cluster.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';

// The support modules later TLS tests stand on, exercised against real services so CI notices when they break.

let ca: CertificateAuthority;
let leaf: IssuedCertificate;
let caPem: string;

beforeAll(async () => {
  ca = await makeCertificateAuthority();
  leaf = await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
  caPem = readFileSync(ca.caFile, 'utf8');
});

afterAll(async () => {
  await ca?.destroy();
});

/** Connects, runs one query, and always closes the client. */
async function queryOnce<Row extends pg.QueryResultRow>(config: pg.ClientConfig, sql: string): Promise<Row[]> {
  const client = new pg.Client(config);
  try {
    await client.connect();
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The reply to one PING over TLS, and the certificate serial the server showed. */
function tlsPing(options: ConnectionOptions): Promise<{ reply: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(options);
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS PING timed out')));
    socket.once('error', reject);
    socket.once('secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve({ reply: reply.trim(), serial });
      }
    });
  });
}

describe('a PostgreSQL cluster that takes TCP only over TLS', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await startPostgresCluster({ ssl: { certFile: leaf.certFile, keyFile: leaf.keyFile, caFile: ca.caFile }, hostSslOnly: true });
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('serves TLS to a client that trusts the CA and names localhost', async () => {
    const rows = await queryOnce<{ ssl: boolean }>(
      { host: 'localhost', port: cluster.port, user: 'postgres', database: 'postgres', ssl: { ca: caPem, servername: 'localhost' } },
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    expect(rows).toEqual([{ ssl: true }]);
  });

  it('refuses a plain TCP connection', async () => {
    await expect(queryOnce({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: false }, 'select 1'))
      .rejects.toThrow(/no encryption|pg_hba/);
  });

  it('fails the name check when the host is 127.0.0.1 and the certificate only says DNS:localhost', async () => {
    await expect(queryOnce({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres', ssl: { ca: caPem } }, 'select 1'))
      .rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('query() runs as the superuser over the unix socket', async () => {
    const [row] = await cluster.query<{ user: string; ssl: boolean | null }>(
      'select current_user as user, (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as ssl',
    );
    expect(row).toEqual({ user: 'postgres', ssl: false });
  });

  it('stops and starts again on the same port', async () => {
    const port = cluster.port;
    await cluster.stop();
    await expect(cluster.query('select 1')).rejects.toThrow();
    await cluster.start();
    expect(cluster.port).toBe(port);
    expect(await cluster.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    const rows = await queryOnce<{ ssl: boolean }>(
      { host: 'localhost', port, user: 'postgres', database: 'postgres', ssl: { ca: caPem, servername: 'localhost' } },
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    expect(rows).toEqual([{ ssl: true }]);
  });
});

describe('a TLS-only redis-server', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer({ tls: { certFile: leaf.certFile, keyFile: leaf.keyFile, caFile: ca.caFile }, tlsOnly: true });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('answers PING over TLS to a client that trusts the CA, with the certificate issued here', async () => {
    expect(redis.port).toBe(0);
    expect(redis.url).toBe(`rediss://localhost:${redis.tlsPort}`);
    const { reply, serial } = await tlsPing({ host: 'localhost', port: redis.tlsPort, ca: caPem, servername: 'localhost' });
    expect(reply).toBe('+PONG');
    expect(serial).toBe(leaf.serial);
  });

  it('is refused by a client that does not trust the CA', async () => {
    await expect(tlsPing({ host: 'localhost', port: redis.tlsPort, servername: 'localhost' })).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/),
    });
  });

  it('comes back on the same port after SIGKILL and restart()', async () => {
    const port = redis.tlsPort;
    await redis.kill('SIGKILL');
    await expect(tlsPing({ host: 'localhost', port, ca: caPem, servername: 'localhost' })).rejects.toThrow();
    await redis.restart();
    expect(redis.tlsPort).toBe(port);
    expect((await tlsPing({ host: 'localhost', port, ca: caPem, servername: 'localhost' })).reply).toBe('+PONG');
  });
});

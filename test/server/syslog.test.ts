import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Server, type TLSSocket, createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { type CertificateAuthority, makeCertificateAuthority } from '../support/certs.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The operator-wide syslog stream (issue 17): every company's journal as RFC 5424 messages over TLS with
 * octet-counting framing (RFC 5425), checked here by a collector that parses the frames; it reconnects when the
 * collector goes away and sends what was queued meanwhile.
 */
const RFC5424 = /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) vigil (\d+) (\S+) \[vigil@32473 ([^\]]*)\] (\{.*\})$/;

class Collector {
  readonly messages: string[] = [];
  private server!: Server;
  private sockets = new Set<TLSSocket>();
  port = 0;

  constructor(private readonly ca: CertificateAuthority, private readonly files: { certFile: string; keyFile: string }) {}

  async start(port = 0): Promise<void> {
    this.server = createServer({ cert: readFileSync(this.files.certFile), key: readFileSync(this.files.keyFile) }, (socket) => {
      this.sockets.add(socket);
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) return;
          const length = Number(buffer.subarray(0, space).toString('ascii'));
          if (buffer.length < space + 1 + length) return;
          this.messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
          buffer = buffer.subarray(space + 1 + length);
        }
      });
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let ca: CertificateAuthority;
let collector: Collector;
let vigil: TestVigil;

beforeAll(async () => {
  ca = await makeCertificateAuthority();
  collector = new Collector(ca, await ca.issue({ commonName: 'collector', ipAddresses: ['127.0.0.1'] }));
  await collector.start();
  vigil = await startVigil({ env: { SYSLOG_URL: `tls://127.0.0.1:${collector.port}`, SYSLOG_CA_FILE: ca.caFile } });
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  await collector?.stop();
  await ca?.destroy();
});

const parse = (message: string) => {
  const match = RFC5424.exec(message);
  if (!match) throw new Error(`not RFC 5424: ${message}`);
  const [, pri, timestamp, , pid, msgid, data, json] = match;
  const params = Object.fromEntries([...data.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]));
  return { pri: Number(pri), timestamp, pid: Number(pid), msgid, params, entry: JSON.parse(json) as { seq: number; action: string; hash: string } };
};

describe('the syslog stream', () => {
  test("every company's events reach the collector as RFC 5424 over TLS, in each journal's order, with the company, seq and chain hash", async () => {
    const a = await signUpTenant(vigil.client());
    const b = await signUpTenant(vigil.client());
    await writeEvents(vigil, a.tenantId, 3, 'test.syslog');
    await signIn(vigil.client(), { tenantSlug: b.slug, email: b.email, password: 'not-the-password' });
    const journals = { [a.tenantId]: await auditRows(vigil, a.tenantId), [b.tenantId]: await auditRows(vigil, b.tenantId) };
    await waitFor(() => collector.messages.map(parse).filter((m) => m.params.tenant in journals).length >= journals[a.tenantId].length + journals[b.tenantId].length, 10_000);
    const received = collector.messages.map(parse);
    for (const [tenantId, rows] of Object.entries(journals)) {
      const mine = received.filter((m) => m.params.tenant === tenantId);
      expect(mine.map((m) => [Number(m.params.seq), m.msgid, m.params.hash])).toEqual(rows.map((row) => [Number(row.seq), row.action, row.hash]));
      expect(mine.map((m) => m.entry.seq)).toEqual(rows.map((row) => Number(row.seq)));
    }
    const failed = received.find((m) => m.params.tenant === b.tenantId && m.msgid === 'session.sign_in_failed')!;
    // authpriv (10), warning (4): the catalogue marks a failed sign-in an alert.
    expect(failed.pri).toBe(10 * 8 + 4);
    expect(failed.params).toMatchObject({ outcome: 'failure', ip: '127.0.0.1' });
    expect(received.find((m) => m.msgid === 'test.syslog')!.pri).toBe(10 * 8 + 6);
  });

  test('the collector away and back: the stream reconnects and sends what was committed meanwhile', async () => {
    const port = collector.port;
    await collector.stop();
    const company = await signUpTenant(vigil.client());
    await writeEvents(vigil, company.tenantId, 5, 'test.while_away');
    collector = new Collector(ca, await ca.issue({ commonName: 'collector', ipAddresses: ['127.0.0.1'] }));
    await collector.start(port);
    const rows = await auditRows(vigil, company.tenantId);
    await waitFor(() => collector.messages.map(parse).filter((m) => m.params.tenant === company.tenantId).length >= rows.length, 20_000);
    expect(collector.messages.map(parse).filter((m) => m.params.tenant === company.tenantId).map((m) => Number(m.params.seq))).toEqual(rows.map((row) => Number(row.seq)));
  }, 30_000);

  test('a plain-text stream over a network is refused at start', () => {
    expect(() => loadConfig({ SYSLOG_URL: 'tcp://siem.example.com:514' })).toThrow(/SYSLOG_URL sends every journal in clear over a network/);
    expect(() => loadConfig({ SYSLOG_URL: 'udp://siem.example.com:514' })).toThrow(/SYSLOG_URL/);
    expect(loadConfig({ SYSLOG_URL: 'tcp://127.0.0.1:5514' }).syslog).toEqual({ url: 'tcp://127.0.0.1:5514', caFile: undefined });
  });
});

import type { EntityManager } from '@mikro-orm/postgresql';
import { execFile } from 'node:child_process';
import canonicalize from 'canonicalize';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { readCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { type ExportedEvent, type Trail as PublishedTrail, chainHash, verifyEvents as verifyExport } from 'vigil-verify';
import { ROLLOUT_GRACE_MS, recordSigningKeys } from '../../server/src/audit/signing-keys.ts';
import { signingKeyId } from '../../server/src/server-keys.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { withOwnerOrm } from '../support/owner-sql.ts';
import { writeEvents } from '../support/journal.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * A company checks its own journal without Vigil (issue 16: the trail every instance, the drill and a
 * company's offline verification read): an unfiltered JSONL export and `auditTrail` (the signed
 * checkpoints, the public keys) are enough to find an edited event, a rewritten history and a cut tail.
 */
const EXPORT = 'mutation { exportAuditEvents(format: JSONL) { url } }';
const TRAIL = '{ auditTrail { tenantId checkpoints { seq hash time previousSignature keyId signature } keys { id publicKeyPem notBefore notAfter } } }';
const work = mkdtempSync(join(tmpdir(), 'vigil-offline-'));
let vigil: TestVigil;
let company: Awaited<ReturnType<typeof signUpTenant>>;
let events: ExportedEvent[];
let trail: PublishedTrail;

beforeAll(async () => {
  vigil = await startVigil();
  company = await signUpTenant(vigil.client());
  await writeEvents(vigil, company.tenantId, 5);
  await writeCheckpoints(vigil.services, 60);
  await writeEvents(vigil, company.tenantId, 2);
  const client = bearerClient(vigil, company.token);
  trail = (await client.ok(TRAIL)).auditTrail;
  const { url } = (await client.ok(EXPORT)).exportAuditEvents;
  const body = await (await fetch(`${vigil.url}${url}`, { headers: { authorization: `Bearer ${company.token}` } })).text();
  events = body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ExportedEvent);
}, 60_000);
afterAll(async () => {
  await vigil?.stop();
  rmSync(work, { recursive: true, force: true });
});

const checkpointSeq = () => trail.checkpoints.at(-1)!.seq;
const edited = (seq: number, change: (event: ExportedEvent) => ExportedEvent) => events.map((event) => (event.seq === seq ? change(event) : event));

/** The history rewritten by someone with the database: the event changed and every later link recomputed, so the chain itself holds. */
function rewritten(seq: number): ExportedEvent[] {
  let previous = '';
  return events.map((event) => {
    if (event.seq < seq) return (previous = event.hash), event;
    const hash = chainHash(previous, trail.tenantId, event.seq === seq ? { ...event, details: { rewritten: true } } : event);
    const relinked = { ...event, ...(event.seq === seq ? { details: { rewritten: true } } : {}), prevHash: previous, hash };
    previous = hash;
    return relinked;
  });
}

async function verifyOffline(exported: ExportedEvent[], published: PublishedTrail): Promise<{ code: number; stdout: string }> {
  const eventsFile = join(work, `events-${Math.random().toString(36).slice(2)}.jsonl`);
  const trailFile = `${eventsFile}.trail.json`;
  writeFileSync(eventsFile, exported.map((event) => JSON.stringify(event)).join('\n'));
  writeFileSync(trailFile, JSON.stringify({ data: { auditTrail: published } }));
  return vigilVerify(['--events', eventsFile, '--trail', trailFile]);
}

/** The standalone verifier (verifier/), as a company runs it: its own process, no Vigil settings, no database, no server. */
function vigilVerify(args: string[]): Promise<{ code: number; stdout: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/DATABASE_URL|REDIS|VIGIL|OFFSITE/.test(name)));
  return promisify(execFile)('npx', ['--no-install', 'vigil-verify', ...args], { env }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

describe('a journal verified offline from an export and the published trail', () => {
  test('the export and the trail as downloaded verify, held to the latest checkpoint, with the command too', async () => {
    expect(events.length).toBeGreaterThan(checkpointSeq());
    expect(events[0]).toMatchObject({ seq: 1, id: expect.any(String) });
    expect(trail.tenantId).toBe(company.tenantId);
    expect(verifyExport(events, trail)).toMatchObject({ ok: true, checkedFromSeq: 1, checkedToSeq: events.at(-1)!.seq, lastCheckpoint: { seq: checkpointSeq() } });
    const run = await verifyOffline(events, trail);
    expect(run.stdout).toContain('ok');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^ok +${company.tenantId} +seq 1\\.\\.${events.at(-1)!.seq}`));
  }, 60_000);

  test('an edited event is named by its seq', async () => {
    const report = verifyExport(edited(3, (event) => ({ ...event, details: { edited: true } })), trail);
    expect(report).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'event 3 was altered' });
    const run = await verifyOffline(edited(3, (event) => ({ ...event, ip: '198.51.100.1' })), trail);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('first bad seq 3: event 3 was altered');
  }, 60_000);

  test('a history rewritten with its links recomputed does not match the signed checkpoint', () => {
    const history = rewritten(2);
    expect(verifyExport(history.filter((event) => event.seq < checkpointSeq()), { ...trail, checkpoints: [] }).ok).toBe(true);
    expect(verifyExport(history, trail)).toMatchObject({ ok: false, firstBadSeq: checkpointSeq(), problem: `event ${checkpointSeq()} is not the one the checkpoint signed (the history up to it was rewritten)` });
  });

  test('a tail cut behind the checkpoint, or an event dropped, is named', () => {
    expect(verifyExport(events.filter((event) => event.seq < checkpointSeq()), trail)).toMatchObject({ ok: false, problem: `the events end at seq ${checkpointSeq() - 1}, before the checkpoint signed at seq ${checkpointSeq()} (truncated)` });
    expect(verifyExport(events.filter((event) => event.seq !== 4), trail)).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'seq 4 is missing (verify an export without a filter)' });
  });

  test('a trail with a bad signature, or signed by a key not published, is refused', () => {
    const [checkpoint] = trail.checkpoints;
    const forged = { ...checkpoint, hash: '0'.repeat(64) };
    expect(verifyExport(events, { ...trail, checkpoints: [forged] })).toMatchObject({ problem: `the trail: checkpoint at seq ${checkpoint.seq} has a bad signature`, firstBadSeq: checkpoint.seq });
    expect(verifyExport(events, { ...trail, keys: [] }).problem).toBe(`the trail: checkpoint at seq ${checkpoint.seq} is signed by key ${checkpoint.keyId}, which is not in the published set`);
  });
});

describe('with the external bucket out of reach', () => {
  test('Vigil still starts, and verifyAuditChain and auditTrail answer SERVICE_UNAVAILABLE rather than check less than the trail', async () => {
    const cut = await startVigil({ env: { OFFSITE_S3_URL: 'https://localhost:1/vigil-backups/vigil' } });
    try {
      const owner = await signUpTenant(cut.client());
      const client = bearerClient(cut, owner.token);
      for (const query of ['{ verifyAuditChain { ok } }', TRAIL]) {
        const answer = await client.request(query);
        expect(answer.errors?.[0]).toMatchObject({ message: expect.stringContaining('external bucket cannot be read'), extensions: { code: 'SERVICE_UNAVAILABLE' } });
      }
    } finally {
      await cut.stop();
    }
  }, 60_000);
});

/**
 * The evidence bundle (issue 17): one file with the events of a range as the chain hashes them, the
 * checkpoints around it and the keys, checked by `npx vigil-verify` as a separate process against the keys
 * fetched from /.well-known/vigil-audit-keys.json. Each kind of tamper is named by its first bad seq.
 */
describe('an evidence bundle checked by the standalone verifier', () => {
  const EVIDENCE = 'mutation($from: SafeInt, $to: SafeInt) { exportAuditEvidence(fromSeq: $from, toSeq: $to) { url format } }';
  let bundleLines: string[];
  let keysFile: string;

  async function downloadBundle(variables: Record<string, unknown> = {}): Promise<string[]> {
    const client = bearerClient(vigil, company.token);
    const { url, format } = (await client.ok(EVIDENCE, variables)).exportAuditEvidence;
    expect(format).toBe('BUNDLE');
    const response = await fetch(`${vigil.url}${url}`, { headers: { authorization: `Bearer ${company.token}` } });
    expect(response.headers.get('content-disposition')).toMatch(/\.bundle\.jsonl"$/);
    return (await response.text()).split('\n').filter(Boolean);
  }

  const save = (lines: string[]) => {
    const file = join(work, `bundle-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const header = (lines: string[]) => JSON.parse(lines[0]) as { fromSeq: number; toSeq: number; checkpoints: Array<Record<string, any>>; keys: Array<Record<string, any>> };
  const eventLine = (lines: string[], seq: number) => lines.findIndex((line, i) => i > 0 && (JSON.parse(line) as { seq: number }).seq === seq);
  const verifyBundleFile = (lines: string[], keys = keysFile) => vigilVerify([save(lines), '--keys', keys]);

  beforeAll(async () => {
    const published = await fetch(`${vigil.url}/.well-known/vigil-audit-keys.json`);
    expect(published.status).toBe(200);
    keysFile = join(work, 'vigil-audit-keys.json');
    writeFileSync(keysFile, await published.text());
    bundleLines = await downloadBundle();
  }, 60_000);

  test('the platform keys are published to anyone, with their validity; the bundle is the whole journal, and it verifies', async () => {
    const published = JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: Array<Record<string, unknown>> };
    expect(published.keys).toEqual([
      expect.objectContaining({ id: vigil.services.keys.auditSigningKeyId, algorithm: 'Ed25519', notBefore: null, notAfter: null, jwk: expect.objectContaining({ kty: 'OKP', crv: 'Ed25519' }) }),
    ]);
    expect((await fetch(`${vigil.url}/.well-known/vigil-audit-keys.json`, { method: 'POST' })).status).toBe(405);
    const { fromSeq, toSeq, checkpoints } = header(bundleLines);
    expect({ fromSeq, toSeq, events: bundleLines.length - 1 }).toEqual({ fromSeq: 1, toSeq: events.length, events: events.length });
    expect(checkpoints.map((c) => c.seq)).toEqual(trail.checkpoints.map((c) => c.seq));
    const run = await verifyBundleFile(bundleLines);
    expect(run.stdout).toMatch(new RegExp(`^ok +${company.tenantId} +seq 1\\.\\.${toSeq}, ${toSeq} events +\\(checkpoint seq ${checkpointSeq()} at .*; range 1\\.\\.${toSeq}, keys from `));
    expect(run.code).toBe(0);
  }, 60_000);

  test('an edited, a deleted, a reordered and a cut event are each named by the first bad seq', async () => {
    const tampers: Array<[string, (lines: string[]) => string[], RegExp]> = [
      ['edited', (lines) => lines.map((line, i) => (i === eventLine(lines, 3) ? line.replace(/"ip":(null|"[^"]*")/, '"ip":"198.51.100.7"') : line)), /first bad seq 3: event 3 was altered/],
      ['deleted', (lines) => lines.filter((_line, i) => i !== eventLine(lines, 4)), /first bad seq 4: seq 4 is missing/],
      ['reordered', (lines) => {
        const copy = [...lines];
        const [a, b] = [eventLine(lines, 3), eventLine(lines, 4)];
        [copy[a], copy[b]] = [copy[b], copy[a]];
        return copy;
      }, /first bad seq 3: the events are out of order at seq 3/],
      ['truncated', (lines) => lines.slice(0, -2), new RegExp(`first bad seq ${bundleLines.length - 2}: the events end at seq ${bundleLines.length - 3}, before seq ${bundleLines.length - 1} where the range ends \\(truncated\\)`)],
    ];
    for (const [kind, tamper, named] of tampers) {
      const run = await verifyBundleFile(tamper(bundleLines));
      expect({ kind, code: run.code, named: named.test(run.stdout) }, run.stdout).toEqual({ kind, code: 1, named: true });
    }
  }, 60_000);

  test('a checkpoint signed by a key the platform does not publish is refused, even when the bundle lists that key', async () => {
    const forger = generateKeyPairSync('ed25519');
    const forgedKeyId = 'forger';
    const lines = [...bundleLines];
    const head = header(lines);
    const original = head.checkpoints.at(-1)!;
    const unsigned = { tenantId: company.tenantId, seq: original.seq, hash: original.hash, time: original.time, previousSignature: original.previousSignature, keyId: forgedKeyId };
    const signature = sign(null, Buffer.from(canonicalize(unsigned)!), forger.privateKey).toString('base64');
    head.checkpoints[head.checkpoints.length - 1] = { ...original, keyId: forgedKeyId, signature };
    head.keys.push({ id: forgedKeyId, publicKeyPem: forger.publicKey.export({ type: 'spki', format: 'pem' }).toString(), notBefore: null, notAfter: null });
    lines[0] = JSON.stringify(head);
    const pinned = await verifyBundleFile(lines);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain(`first bad seq ${original.seq}: the trail: checkpoint at seq ${original.seq} is signed by key forger, which is not in the published set`);
    // Without the pinned keys the bundle vouches for itself, and the report says so.
    const selfVouched = await vigilVerify([save(lines)]);
    expect(selfVouched.stdout).toContain('keys as the bundle carries them: pin them with --keys');
  }, 60_000);

  test('a checkpoint dated outside its key\'s validity is refused', async () => {
    const published = JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: Array<Record<string, unknown>> };
    const checkpointTime = header(bundleLines).checkpoints[0].time as string;
    const later = new Date(Date.parse(checkpointTime) + 1000).toISOString();
    const narrowed = join(work, 'narrowed-keys.json');
    writeFileSync(narrowed, JSON.stringify({ keys: published.keys.map((key) => ({ ...key, notBefore: later })) }));
    const run = await verifyBundleFile(bundleLines, narrowed);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`outside the validity of key ${vigil.services.keys.auditSigningKeyId} (${later} to now)`);
  }, 60_000);

  test('a range verifies from the hash before it, and a range past the journal\'s end is refused', async () => {
    const lines = await downloadBundle({ from: 3, to: checkpointSeq() });
    expect(header(lines)).toMatchObject({ fromSeq: 3, toSeq: checkpointSeq() });
    const run = await verifyBundleFile(lines);
    expect(run.stdout).toMatch(new RegExp(`^ok .* seq 3\\.\\.${checkpointSeq()}, ${checkpointSeq() - 2} events +\\(checkpoint seq ${checkpointSeq()}`));
    const wrongStart = [lines[0].replace(/"previousHash":"[0-9a-f]+"/, `"previousHash":"${'1'.repeat(64)}"`), ...lines.slice(1)];
    expect((await verifyBundleFile(wrongStart)).stdout).toContain('first bad seq 3: event 3 was altered');
    const answer = await bearerClient(vigil, company.token).request(EVIDENCE, { from: 1, to: 10_000 });
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.any(String) });
    expect(JSON.stringify(answer.errors)).toContain('The journal ends at seq');
    const filtered = await bearerClient(vigil, company.token).request('mutation { exportAuditEvents(format: BUNDLE) { url } }');
    expect(filtered.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'format', message: expect.stringContaining('exportAuditEvidence') }] } });
  }, 60_000);
});

describe('the published keys across a rotation', () => {
  let base: number;
  beforeAll(() => void (base = vigil.clock.now().getTime()));
  const at = (minutes: number) => new Date(base + minutes * 60_000);
  const record = (keys: Parameters<typeof recordSigningKeys>[0], when: Date) => withOwnerOrm(vigil, (orm) => recordSigningKeys(keys, () => when)(orm.em.fork() as unknown as EntityManager));
  const publishedKeys = async () => ((await (await fetch(`${vigil.url}/.well-known/vigil-audit-keys.json`)).json()) as { keys: Array<Record<string, unknown>> }).keys;

  test('the new key counts from the start that brought it, the old one until then plus the rollout grace; past it, the old key never signs again', async () => {
    const oldKey = { id: vigil.services.keys.auditSigningKeyId, key: vigil.services.keys.auditVerifyKey };
    const fresh = generateKeyPairSync('ed25519');
    const newId = signingKeyId(fresh.privateKey);
    const rotated = { auditSigningKeyId: newId, auditVerifyKeys: new Map([[newId, fresh.publicKey], [oldKey.id, oldKey.key]]) };
    const unrotated = { auditSigningKeyId: oldKey.id, auditVerifyKeys: new Map([[oldKey.id, oldKey.key]]) };
    await record(rotated, at(0));
    const retiredUntil = new Date(at(0).getTime() + ROLLOUT_GRACE_MS).toISOString();
    expect(await publishedKeys()).toEqual([
      expect.objectContaining({ id: oldKey.id, notBefore: null, notAfter: retiredUntil }),
      expect.objectContaining({ id: newId, notBefore: at(0).toISOString(), notAfter: null }),
    ]);
    // A rollback within the grace takes the old key back; a start with it after the grace is refused.
    await record(unrotated, at(30));
    expect((await publishedKeys()).find((key) => key.id === oldKey.id)).toMatchObject({ notAfter: null });
    await record(rotated, at(40));
    await expect(record(unrotated, at(40 + 61))).rejects.toThrow(`AUDIT_SIGNING_KEY_FILE holds key ${oldKey.id}, retired at`);
    // An instance still running on the old key past the grace signs nothing.
    vigil.clock.advance((base + 102 * 60_000 - vigil.clock.now().getTime()) / 1000);
    await writeEvents(vigil, company.tenantId, 1);
    const signed = readCheckpoints(vigil.config.checkpointsDir, company.tenantId).length;
    expect(await writeCheckpoints(vigil.services, 1)).toBe(0);
    expect(readCheckpoints(vigil.config.checkpointsDir, company.tenantId)).toHaveLength(signed);
  });
});

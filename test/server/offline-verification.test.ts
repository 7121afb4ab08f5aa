import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { canonicalAroundSeq } from '../../server/src/audit/chain.ts';
import { type ExportedEvent, type PublishedTrail, verifyExport } from '../../server/src/audit/offline-verify.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { writeEvents } from '../support/journal.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * A company checks its own journal without Vigil (issue 16: the trail every instance, the drill and a
 * company's offline verification read): an unfiltered JSONL export and `auditTrail` (the signed
 * checkpoints, the public keys) are enough to find an edited event, a rewritten history and a cut tail.
 */
const EXPORT = 'mutation { exportAuditEvents(format: JSONL) { url } }';
const TRAIL = '{ auditTrail { tenantId checkpoints { seq hash time previousSignature keyId signature } keys { id publicKeyPem } } }';
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
    const { seq: n, prevHash: _p, hash: _h, ...fields } = event.seq === seq ? { ...event, details: { rewritten: true } } : event;
    const { prefix, suffix } = canonicalAroundSeq({ ...fields, tenantId: trail.tenantId, occurredAt: new Date(fields.occurredAt) });
    const hash = createHash('sha256').update(`${previous}${prefix}${n}${suffix}`).digest('hex');
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
  const env = { ...process.env };
  delete env.DATABASE_URL; // the company's machine: no Vigil configuration at all
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/audit-verify-offline.ts', '--events', eventsFile, '--trail', trailFile], { env }).then(
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
    expect(verifyExport(history, trail)).toMatchObject({ ok: false, firstBadSeq: checkpointSeq(), problem: `event ${checkpointSeq()} is not the one the checkpoint signed` });
  });

  test('a tail cut behind the checkpoint, or an event dropped, is named', () => {
    expect(verifyExport(events.filter((event) => event.seq < checkpointSeq()), trail)).toMatchObject({ ok: false, problem: `the export ends at seq ${checkpointSeq() - 1}, before the checkpoint signed at seq ${checkpointSeq()}` });
    expect(verifyExport(events.filter((event) => event.seq !== 4), trail)).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'seq 4 is missing from the export (verify an export without a filter)' });
  });

  test('a trail with a bad signature, or signed by a key not published, is refused', () => {
    const [checkpoint] = trail.checkpoints;
    const forged = { ...checkpoint, hash: '0'.repeat(64) };
    expect(verifyExport(events, { ...trail, checkpoints: [forged] }).problem).toBe(`the trail: checkpoint at seq ${checkpoint.seq} has a bad signature`);
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

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { functionDefinition } from '../../server/src/db/functions.ts';
import { APP_ROLE, PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { SYSTEM_ORIGIN } from '../../server/src/audit/journal.ts';
import { asOperatorRole } from '../../server/src/platform/operator-work.ts';
import { platformJournal } from '../../server/src/platform/ops-reads.ts';
import { freshDatabase } from '../support/database.ts';
import { GENESIS_HASH } from '../../server/src/audit/chain.ts';
import { chainedFieldsOf, referenceChainHash } from '../support/chain.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { testAction, writeEvents } from '../support/journal.ts';
import { asOwner, tamperWithJournal } from '../support/owner-sql.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const run = promisify(execFile);
const VERIFY = '{ verifyAuditChain { ok checkedToSeq firstBadSeq problem lastCheckpoint { seq time } } }';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

/** A tenant with 10 events and a checkpoint at its head; returns an owner client. */
async function journalWithCheckpoint() {
  const owner = await signUpTenant(vigil.client());
  await writeEvents(vigil, owner.tenantId, 7);
  await releaseCheckpointLease();
  expect(await writeCheckpoints(vigil.services, 60)).toBeGreaterThan(0);
  const client = vigil.client();
  client.bearer = owner.token;
  return { owner, client };
}

async function releaseCheckpointLease() {
  await asOwner(vigil, (q) => q('update scheduled_job set leased_until = null'));
}

const tamper = (sql: string, params: unknown[] = []) => tamperWithJournal(vigil, sql, params);

describe('append-only', () => {
  test('the application role may only insert and select the journal', async () => {
    const owner = await signUpTenant(vigil.client());
    const attempts = ['update audit_event set action = $1', 'delete from audit_event', 'truncate audit_event'];
    for (const sql of attempts) {
      const error = await asOwner(vigil, async (q) => {
        await q(`set role ${APP_ROLE}`);
        await q(`select set_config('app.tenant_id', '${owner.tenantId}', false)`);
        try {
          await q(sql, sql.includes('$1') ? ['forged'] : []);
          return null;
        } catch (e) {
          return (e as Error).message;
        } finally {
          await q('reset role');
        }
      });
      expect(error).toMatch(/permission denied/);
    }
  });

  test('triggers refuse update, delete and truncate even to the owner', async () => {
    await signUpTenant(vigil.client());
    for (const sql of ["update audit_event set action = 'forged'", 'delete from audit_event', 'truncate audit_event']) {
      const error = await asOwner(vigil, (q) => q(sql).then(() => null, (e: Error) => e.message));
      expect(error).toMatch(/append-only/);
    }
  });
});

describe('tamper evidence', () => {
  test('an intact journal verifies, with the time of the last checkpoint', async () => {
    const { client } = await journalWithCheckpoint();
    const result = (await client.ok(VERIFY)).verifyAuditChain;
    expect(result).toMatchObject({ ok: true, firstBadSeq: null, problem: null });
    expect(result.lastCheckpoint.seq).toBe(result.checkedToSeq);
  });

  test("every stored link is the chain's definition computed independently, whichever path appended it", async () => {
    const owner = await signUpTenant(vigil.client());
    // A sign-in from a new device appends two entries in one statement (vigil_open_session); a mutation one.
    const other = vigil.client();
    other.extraHeaders['user-agent'] = 'Other browser "seq":1 \\u0000';
    expect((await signIn(other, { tenantSlug: owner.slug, email: 'owner@acme.test' })).errors).toBeUndefined();
    const client = vigil.client();
    client.bearer = owner.token;
    await client.ok('mutation { createRole(input: { name: "Ревизор 🔍", permissions: ["audit.read"] }) { id } }');
    await writeEvents(vigil, owner.tenantId, 3);
    const rows = await asOwner(vigil, (q) => q<any>('select * from audit_event where tenant_id = $1 order by seq', [owner.tenantId]));
    expect(rows.map((row) => row.action)).toEqual(expect.arrayContaining(['session.signed_in', 'session.new_device', 'role.created']));
    let previous = GENESIS_HASH;
    for (const row of rows) {
      expect({ seq: row.seq, prev: row.prev_hash, hash: row.hash }).toEqual({ seq: row.seq, prev: previous, hash: referenceChainHash(previous, chainedFieldsOf(row)) });
      previous = row.hash;
    }
  });

  test('details and a user agent that mimic the seq field hash and verify like any other event', async () => {
    const owner = await signUpTenant(vigil.client());
    const mimic = `"seq":${Number.MIN_SAFE_INTEGER}`;
    const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: `agent ${mimic}` };
    const recorded = await inTenantTransaction(vigil.services, { tenantId: owner.tenantId, origin, viewer: null }, ({ journal }) =>
      journal.record({ action: testAction('test.mimic'), details: { seq: Number.MIN_SAFE_INTEGER, note: mimic, nested: { seq: 1 } } }),
    );
    expect(recorded.seq).toBeGreaterThan(1);
    const client = vigil.client();
    client.bearer = owner.token;
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: true, firstBadSeq: null });
    await tamper(`update audit_event set user_agent = 'agent' where tenant_id = $1 and seq = $2`, [owner.tenantId, recorded.seq]);
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: recorded.seq });
  });

  test('an edited row is reported at its seq', async () => {
    const { owner, client } = await journalWithCheckpoint();
    await tamper(`update audit_event set details = '{"i": 999}' where tenant_id = $1 and seq = 6`, [owner.tenantId]);
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: 6 });
  });

  test('a deleted row is reported at its seq', async () => {
    const { owner, client } = await journalWithCheckpoint();
    await tamper('delete from audit_event where tenant_id = $1 and seq = 5', [owner.tenantId]);
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: 5 });
  });

  test('reordered rows are reported at the first moved seq', async () => {
    const { owner, client } = await journalWithCheckpoint();
    // Swap events 7 and 8 (through a free seq: the unique constraint forbids a direct swap).
    await tamper('update audit_event set seq = -7 where tenant_id = $1 and seq = 7', [owner.tenantId]);
    await tamper('update audit_event set seq = 7 where tenant_id = $1 and seq = 8', [owner.tenantId]);
    await tamper('update audit_event set seq = 8 where tenant_id = $1 and seq = -7', [owner.tenantId]);
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: 7 });
  });

  test('a tail cut off after the checkpoint is reported at the first missing seq', async () => {
    const { owner, client } = await journalWithCheckpoint();
    await tamper('delete from audit_event where tenant_id = $1 and seq > 8', [owner.tenantId]);
    const result = (await client.ok(VERIFY)).verifyAuditChain;
    expect(result).toMatchObject({ ok: false, firstBadSeq: 9, checkedToSeq: 8 });
  });

  test('a journal rewritten consistently is caught by the signed checkpoint', async () => {
    const { owner, client } = await journalWithCheckpoint();
    // Rewrite event 4 and recompute every later hash, as an attacker with the database but not the key would.
    await tamper(`update audit_event set details = '{"rewritten": true}' where tenant_id = $1 and seq = 4`, [owner.tenantId]);
    const rows = await asOwner(vigil, (q) => q<any>('select * from audit_event where tenant_id = $1 order by seq', [owner.tenantId]));
    let previous = rows[2].hash as string;
    for (const row of rows.slice(3)) {
      const hash = referenceChainHash(previous, chainedFieldsOf(row));
      await tamper('update audit_event set prev_hash = $1, hash = $2 where id = $3', [previous, hash, row.id]);
      previous = hash;
    }
    const result = (await client.ok(VERIFY)).verifyAuditChain;
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(1);
    expect(result.problem).toMatch(/rewritten/);
  });

  test('a chain function replaced to agree with every stored row is refused, not trusted', async () => {
    const { owner, client } = await journalWithCheckpoint();
    await tamper(`update audit_event set details = '{"i": 999}' where tenant_id = $1 and seq = 6`, [owner.tenantId]);
    // The owner's rights can replace the function too: this one answers each stored row's own hash.
    const lying = `create or replace function public.vigil_chain_hash(p_prev text, p_prefix text, p_seq bigint, p_suffix text) returns text language sql stable as $$
      select coalesce((select e.hash from audit_event e where e.prev_hash = p_prev and e.seq = p_seq limit 1),
                      encode(sha256(convert_to(p_prev || p_prefix || p_seq::text || p_suffix, 'UTF8')), 'hex')) $$`;
    await asOwner(vigil, (q) => q(lying));
    try {
      const result = (await client.ok(VERIFY)).verifyAuditChain;
      expect(result.ok).toBe(false);
      expect(result.problem).toMatch(/vigil_chain_hash is not the function Vigil ships/);
    } finally {
      await asOwner(vigil, (q) => q(functionDefinition('vigil_chain_hash')));
    }
    expect((await client.ok(VERIFY)).verifyAuditChain).toMatchObject({ ok: false, firstBadSeq: 6 });
  });

  test('verification needs audit.read', async () => {
    const result = await vigil.client().request(VERIFY);
    expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('rollback detection', () => {
  test('a journal found behind its last signed checkpoint raises journal.rollback_detected once, with the missing range, in its journal and the platform journal', async () => {
    const { owner } = await journalWithCheckpoint();
    const head = Number((await asOwner(vigil, (q) => q<{ seq: string }>('select max(seq) as seq from audit_event where tenant_id = $1', [owner.tenantId])))[0].seq);
    // What an asynchronous failover loses: the tail the old primary had committed and the checkpoint signed.
    await tamper('delete from audit_event where tenant_id = $1 and seq > $2', [owner.tenantId, head - 3]);
    for (let round = 0; round < 2; round += 1) {
      await releaseCheckpointLease();
      await writeCheckpoints(vigil.services, 60);
    }
    const reports = await asOwner(vigil, (q) =>
      q<{ tenant_id: string; details: Record<string, unknown>; outcome: string }>("select tenant_id, details, outcome from audit_event where action = 'journal.rollback_detected' and details->>'tenantId' = $1 order by tenant_id", [owner.tenantId]),
    );
    expect(reports.map((r) => r.tenant_id).sort()).toEqual([PLATFORM_TENANT_ID, owner.tenantId].sort());
    for (const report of reports) {
      expect(report).toMatchObject({ outcome: 'failure', details: { missingFromSeq: head - 2, missingToSeq: head, checkpointSeq: head } });
    }
    const platform = await asOperatorRole(vigil.services, SYSTEM_ORIGIN, null, ({ em }) => platformJournal(em, null, 200));
    expect(platform.filter((e) => e.action === 'journal.rollback_detected' && e.details.tenantId === owner.tenantId)).toHaveLength(1);
  });
});

describe('npm run audit:verify', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vigil-verify-'));
  });

  test('exits 0 on an intact journal and 1, naming the seq, after tampering', async () => {
    const database = freshDatabase();
    const dataDir = join(home, 'data');
    const options = database.ownerUrl ? database : { ...database, options: { dataDir } };
    const env = { VIGIL_HOME: home, ...(database.ownerUrl ? { DATABASE_URL: database.ownerUrl } : { VIGIL_DATA_DIR: dataDir }), LOG_LEVEL: 'silent' };
    const instance = await startVigil({ database: options, env });
    let tenantId: string;
    try {
      tenantId = (await signUpTenant(instance.client())).tenantId;
      await writeEvents(instance, tenantId, 5);
      await writeCheckpoints(instance.services, 60);
    } finally {
      await instance.stop();
    }
    const cli = (args: string[] = []) =>
      run('node_modules/.bin/node', ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], { env: { ...process.env, ...env } }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    const intact = await cli();
    expect(intact.code).toBe(0);
    expect(intact.out).toContain(`ok       ${tenantId!}`);

    const again = await startVigil({ database: options, env });
    try {
      await asOwner(again, async (q) => {
        await q('alter table audit_event disable trigger user');
        await q(`update audit_event set action = 'session.nothing_happened' where tenant_id = $1 and seq = 3`, [tenantId]);
        await q('alter table audit_event enable trigger user');
      });
    } finally {
      await again.stop();
    }
    const tampered = await cli(['--tenant', tenantId!]);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/TAMPERED .* first bad seq 3/);
    await database.drop();
  }, 60_000);
});

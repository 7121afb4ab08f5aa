import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { verifyChain } from '../../server/src/audit/verify.ts';
import { schema } from '../../server/src/schema.ts';
import { PLATFORM_TENANT_ID } from '../../server/src/db/tenancy.ts';
import { STRONG_PASSWORD, signUpTenant } from '../support/factories.ts';
import { collect, liveClient } from '../support/live.ts';
import { auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Hostile values in every string and ID argument and input field of every query and mutation, sent by a
 * signed-in owner (so that every field really runs): NUL, lone surrogates, control and bidi characters,
 * 1 MB strings, wrong JSON types, invalid UTF-8 on the wire, and fast-check's arbitrary strings. No answer
 * is ever INTERNAL_SERVER_ERROR, the server keeps answering, every sign-in attempt is in the journal, and
 * the journals still verify.
 */
let vigil: TestVigil;
let owner: Awaited<ReturnType<typeof signUpTenant>>;
let address = 0;

beforeAll(async () => {
  vigil = await startVigil({ env: { TRUSTED_PROXIES: 'loopback' } });
  owner = await signUpTenant(vigil.client());
});
afterAll(async () => vigil?.stop());

/** A client address of its own for each request, so the sign-in throttle never answers for the input. */
function nextAddress(): string {
  address += 1;
  return `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`;
}

interface Sent {
  status: number;
  codes: string[];
}

async function send(body: string | Buffer, ip = nextAddress()): Promise<Sent> {
  const response = await fetch(`${vigil.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${owner.token}`, 'x-forwarded-for': ip },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await response.text();
  const parsed = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> };
  return { status: response.status, codes: (parsed.errors ?? []).map((e) => e.extensions?.code ?? 'NONE') };
}

function expectClean(sent: Sent, what: unknown): void {
  expect({ what, status: sent.status < 500, codes: sent.codes.filter((c) => c === 'INTERNAL_SERVER_ERROR' || c === 'NONE') }).toEqual({ what, status: true, codes: [] });
}

type Path = Array<string | number>;

interface Leaf {
  path: Path;
  scalar: 'String' | 'ID';
}

interface Target {
  field: string;
  document: string;
  base: Record<string, unknown>;
  /** Every String or ID leaf of the variables. */
  leaves: Leaf[];
}

const FIXED_ID = '6f1c2a44-0b0e-4d7e-9f1e-3a1b2c3d4e5f';

/** A plausible, harmless value of an input type: ids match nothing, strings are short. */
function baseValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return baseValue(type.ofType);
  if (isListType(type)) return [baseValue(type.ofType)];
  if (isInputObjectType(type)) return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, baseValue(f.type)]));
  if (isEnumType(type)) return type.getValues()[0].name;
  const scalar: Record<string, unknown> = { String: 'x', ID: FIXED_ID, Int: 1, Float: 1, Boolean: false, SafeInt: 1, DateTime: '2026-01-01T00:00:00.000Z', JSONObject: {} };
  if (isScalarType(type) && type.name in scalar) return scalar[type.name];
  throw new Error(`no base value for ${String(type)}`);
}

function leavesOf(type: GraphQLInputType, path: Path, into: Leaf[]): void {
  if (isNonNullType(type)) return leavesOf(type.ofType, path, into);
  if (isListType(type)) return leavesOf(type.ofType, [...path, 0], into);
  if (isInputObjectType(type)) {
    for (const f of Object.values(type.getFields())) leavesOf(f.type, [...path, f.name], into);
    return;
  }
  if (isScalarType(type) && (type.name === 'String' || type.name === 'ID')) into.push({ path, scalar: type.name });
}

function targetOf(operation: Operation, field: GraphQLField<unknown, unknown>): Target | null {
  const args = field.args as readonly GraphQLArgument[];
  const leaves: Leaf[] = [];
  for (const arg of args) leavesOf(arg.type, [arg.name], leaves);
  if (!leaves.length) return null;
  const definitions = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const uses = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return {
    field: `${operation}.${field.name}`,
    document: `${operation}(${definitions}) { ${field.name}(${uses})${selection} }`,
    base: Object.fromEntries(args.map((a) => [a.name, baseValue(a.type)])),
    leaves,
  };
}

type Operation = 'query' | 'mutation' | 'subscription';

const targetsOf = (roots: Array<[Operation, GraphQLObjectType]>): Target[] => roots.flatMap(([operation, root]) => Object.values(root.getFields()).map((f) => targetOf(operation, f)).filter((t): t is Target => t !== null));
const targets = targetsOf([
  ['query', schema.getQueryType()!],
  ['mutation', schema.getMutationType()!],
]);
const subscriptionTargets = targetsOf([['subscription', schema.getSubscriptionType()!]]);

function withValue(base: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const HOSTILE: Record<string, unknown> = {
  nul: 'a\u0000b',
  loneHigh: 'a\ud800',
  loneLow: '\udc00z',
  escape: 'a\u001b[31mred',
  newline: 'line\nbreak',
  c1: 'a\u0085b',
  bidiOverride: 'x\u202Eexe.pdf',
  bidiIsolate: 'x\u2066y\u2069',
  megabyte: 'm'.repeat(1024 * 1024),
  number: 12345,
  object: { nested: 'x' },
  array: ['x'],
  boolean: true,
  null: null,
};

/** What no string field accepts, whatever it is for. */
const MALFORMED = new Set(['nul', 'loneHigh', 'loneLow', 'escape', 'newline', 'c1', 'number', 'object', 'array', 'boolean']);

test('the schema walk found the fields to attack', () => {
  expect(targets.map((t) => t.field)).toEqual(expect.arrayContaining(['mutation.signIn', 'mutation.signUp', 'mutation.createRole', 'query.auditEvents', 'query.user']));
  expect(targets.length).toBeGreaterThan(25);
});

describe('every string and ID argument and input field', () => {
  test('each named hostile value, in each place, is answered cleanly', async () => {
    for (const target of targets) {
      for (const { path } of target.leaves) {
        for (const [name, value] of Object.entries(HOSTILE)) {
          const sent = await send(JSON.stringify({ query: target.document, variables: withValue(target.base, path, value) }));
          expectClean(sent, { field: target.field, path: path.join('.'), hostile: name });
        }
      }
    }
  }, 240_000);

  test('over WebSocket, each hostile value in a subscription argument is a clean refusal, never a 4500 close', async () => {
    expect(subscriptionTargets.length).toBeGreaterThan(0);
    const client = liveClient(vigil.url, { token: owner.token });
    try {
      for (const target of subscriptionTargets) {
        for (const { path, scalar } of target.leaves) {
          for (const [name, value] of Object.entries(HOSTILE)) {
            if (name === 'megabyte') continue; // beyond the WebSocket's message limit: the socket is closed with 1009, by design
            const stream = collect(client, target.document, withValue(target.base, path, value));
            // Well-formed text (bidi characters, null) may open a live stream: it stays open, and is stopped here.
            const ended = await Promise.race([stream.done.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))]);
            if (!ended) stream.stop();
            const codes = stream.errors.flatMap((e) => (Array.isArray(e) ? e : [e])).map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
            // An ID may be given as a number: 12345 is the well-formed ID "12345".
            const malformed = MALFORMED.has(name) && !(scalar === 'ID' && name === 'number');
            const expected = malformed || ended ? ['BAD_USER_INPUT'] : [];
            expect({ field: target.field, path: path.join('.'), name, codes }).toEqual({ field: target.field, path: path.join('.'), name, codes: expected });
          }
        }
      }
      // Not even a document: an error on the operation, the socket stays.
      const broken = collect(client, 'subscription { auditEvents(filter: { actions: ["\u0000"] ');
      await broken.done;
      expect(broken.errors.flatMap((e) => (Array.isArray(e) ? e : [e])).map((e) => (e as { extensions?: { code?: string } }).extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(client.closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  }, 60_000);

  test('invalid UTF-8 on the wire is answered cleanly', async () => {
    const invalid = [Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf0, 0x28, 0x8c, 0x28])];
    for (const target of targets) {
      const [{ path }] = target.leaves;
      for (const bytes of invalid) {
        const marker = '"__INVALID__"';
        const text = JSON.stringify({ query: target.document, variables: withValue(target.base, path, '__INVALID__') });
        const [before, after] = text.split(marker);
        const body = Buffer.concat([Buffer.from(`${before}"a`), bytes, Buffer.from(`b"${after}`)]);
        expectClean(await send(body), { field: target.field, bytes: bytes.toString('hex') });
      }
    }
    expectClean(await send(Buffer.from([0x7b, 0xff, 0x22, 0x7d])), 'not even JSON');
  }, 120_000);

  test('arbitrary strings and values from fast-check, anywhere', async () => {
    const hostileUnit = fc.constantFrom('\u0000', '\ud800', '\udfff', '\u202e', '\u2067', '\u001f', '\u007f', '\ufeff', 'é', '😀', 'a', '"', '\\');
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: hostileUnit, maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const place = fc.constantFrom(...targets.flatMap((t) => t.leaves.map(({ path }) => ({ target: t, path }))));
    await fc.assert(
      fc.asyncProperty(place, value, async ({ target, path }, hostile) => {
        const sent = await send(JSON.stringify({ query: target.document, variables: withValue(target.base, path, hostile) }));
        expectClean(sent, { field: target.field, path: path.join('.'), hostile });
      }),
      { numRuns: 400 },
    );
  }, 240_000);
});

describe('afterwards', () => {
  test('every sign-in attempt, whatever it carried, is in the journal', async () => {
    const field = fc.constantFrom('tenantSlug', 'email', 'password');
    const hostile = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom(...Object.values(HOSTILE).filter((v) => typeof v === 'string')));
    const addresses: string[] = [];
    let attempt = 0;
    await fc.assert(
      fc.asyncProperty(field, hostile, async (name, value) => {
        attempt += 1;
        // Each attempt its own account, as it has its own address: the throttle must not be what answers.
        const input = { tenantSlug: owner.slug, email: `probe-${attempt}@acme.test`, password: STRONG_PASSWORD, [name]: name === 'password' ? value : `${value}${attempt}` };
        const ip = nextAddress();
        addresses.push(ip);
        const sent = await send(JSON.stringify({ query: 'mutation($i: SignInInput!) { signIn(input: $i) { token } }', variables: { i: input } }), ip);
        expectClean(sent, { name, value });
        expect(sent.codes).toEqual([expect.stringMatching(/^(BAD_USER_INPUT|INVALID_CREDENTIALS)$/)]);
      }),
      { numRuns: 150 },
    );
    const journalled = [...(await auditRows(vigil, owner.tenantId)), ...(await auditRows(vigil, PLATFORM_TENANT_ID))]
      .filter((row) => row.action === 'session.sign_in_failed' && addresses.includes(row.ip ?? ''))
      .map((row) => row.ip);
    expect(new Set(journalled).size).toBe(addresses.length);
    expect(journalled).toHaveLength(addresses.length);
  }, 120_000);

  test('the server still answers, and the journals it wrote all that into still verify', async () => {
    // The attack's own owner may have locked their account down along the way (lockDown with a valid reason): ask as someone new.
    const fresh = await signUpTenant(vigil.client());
    const response = await fetch(`${vigil.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh.token}` },
      body: JSON.stringify({ query: '{ viewer { user { id } } verifyAuditChain { ok } }' }),
    });
    expect((await response.json()).data).toEqual({ viewer: { user: { id: fresh.userId } }, verifyAuditChain: { ok: true } });
    const { config, db, keys } = vigil.services;
    const platform = await verifyChain(db.forTenant(PLATFORM_TENANT_ID), verifiedCheckpoints(config.checkpointsDir, keys.auditVerifyKey, PLATFORM_TENANT_ID));
    expect(platform).toMatchObject({ ok: true, firstBadSeq: null });
    const attacked = await verifyChain(db.forTenant(owner.tenantId), verifiedCheckpoints(config.checkpointsDir, keys.auditVerifyKey, owner.tenantId));
    expect(attacked).toMatchObject({ ok: true, firstBadSeq: null });
  });
});

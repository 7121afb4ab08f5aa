import {
  type ExecutionResult,
  type GraphQLObjectType,
  type GraphQLOutputType,
  execute,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  parse,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sessionViewer } from '../../server/src/access/viewer.ts';
import { fromEntity } from '../../server/src/audit/feed.ts';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { isViewerDependent } from '../../server/src/builder.ts';
import type { Context } from '../../server/src/context.ts';
import { selectsViewerDependentFields } from '../../server/src/http/shared-execution.ts';
import { schema } from '../../server/src/schema.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Live events are rendered once per (permissions, operation) and the JSON shared between subscribers, so a
 * field whose value depends on who asks must say so (VIEWER_DEPENDENT). This renders every field a
 * subscription can reach, for the same event, as two users with the very same permissions, and checks that
 * every field that differs is marked — the test fails when a new field is not.
 */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const MAX_DEPTH = 4;

/** Every field reachable from a type that takes no required argument, each object once per path. */
function selection(type: GraphQLObjectType, depth: number, path: Set<string>): string {
  const fields = Object.values(type.getFields()).filter((field) => !field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined));
  return fields
    .map((field) => {
      const named = getNamedType(field.type as GraphQLOutputType);
      if (isLeafType(named)) return field.name;
      if (!isObjectType(named) || depth >= MAX_DEPTH || path.has(named.name)) return null;
      return `${field.name} { __typename ${selection(named, depth + 1, new Set([...path, named.name]))} }`;
    })
    .filter(Boolean)
    .join(' ');
}

type Path = ReadonlyArray<string | number>;

/** The field that answered at a path of a result, as Type.field. */
function fieldAt(root: GraphQLObjectType, path: Path): string | null {
  let type: GraphQLObjectType = root;
  let name: string | null = null;
  for (const step of path) {
    if (typeof step === 'number') continue;
    const field = type.getFields()[step];
    if (!field) return null;
    name = `${type.name}.${step}`;
    const named = getNamedType(field.type as GraphQLOutputType);
    if (isObjectType(named)) type = named;
  }
  return name;
}

/** Where two results of one operation differ: fields whose values differ, and fields refused to one only. */
function differingFields(root: GraphQLObjectType, a: ExecutionResult, b: ExecutionResult, into: Set<string>): void {
  const errorPaths = (r: ExecutionResult) => new Set((r.errors ?? []).map((e) => JSON.stringify(e.path ?? [])));
  const [errorsA, errorsB] = [errorPaths(a), errorPaths(b)];
  for (const path of [...errorsA, ...errorsB]) {
    if (errorsA.has(path) !== errorsB.has(path)) {
      const field = fieldAt(root, JSON.parse(path) as Path);
      if (field) into.add(field);
    }
  }
  // A value nulled by an error under it is that error's, already counted.
  const nulledByError = (path: Path) => [...errorsA, ...errorsB].some((p) => p.startsWith(JSON.stringify(path).slice(0, -1)));
  const walk = (left: unknown, right: unknown, path: Path) => {
    if (left !== null && right !== null && typeof left === 'object' && typeof right === 'object') {
      const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
      for (const key of keys) {
        const step = Array.isArray(left) ? Number(key) : key;
        walk((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key], [...path, step]);
      }
      if (!Array.isArray(left) || !Array.isArray(right) || left.length === right.length) return;
    }
    if (JSON.stringify(left) === JSON.stringify(right) || nulledByError(path)) return;
    const field = fieldAt(root, path);
    if (field) into.add(field);
  };
  walk(a.data, b.data, []);
}

const markedFields = () =>
  Object.values(schema.getTypeMap())
    .filter(isObjectType)
    .flatMap((type) => Object.values(type.getFields()).filter((f) => isViewerDependent(f.extensions)).map((f) => `${type.name}.${f.name}`));

describe('shared rendering of live events', () => {
  test('every field that differs between two users with the same permissions is marked as viewer-dependent', async () => {
    const owner = await signUpTenant(vigil.client());
    const admin = bearerClient(vigil, owner.token);
    // A role that sees the journal but not other people's accounts or sessions: fields about the viewer's own
    // account are then visible to one user and not the other.
    const role = (await admin.ok('mutation { createRole(input: { name: "Watcher", permissions: ["audit.read"] }) { id } }')).createRole.id;
    const people = [];
    for (const name of ['first', 'second']) {
      const email = `${name}@acme.test`;
      const invited = (await admin.ok('mutation($e: String!, $r: ID!) { inviteUser(email: $e, roleId: $r) { token } }', { e: email, r: role })).inviteUser.token;
      const accepted = (await vigil.client().ok('mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { session { id } user { id } } }', { i: { token: invited, password: 'correct horse battery staple', displayName: name } })).acceptInvitation;
      people.push(accepted as { session: { id: string }; user: { id: string } });
    }
    const [first, second] = people;
    const em = vigil.services.db.forTenant(owner.tenantId);
    // An event whose actor is the first user: the second sees the same event about someone else.
    const event = fromEntity(await em.findOneOrFail(AuditEvent, { action: 'session.signed_in', actorId: first.user.id }));
    const contextOf = async (sessionId: string): Promise<Context> => {
      const found = (await vigil.services.credentials.session(sessionId))!;
      return { services: vigil.services, meta: { ip: null, userAgent: null, secure: false, deviceToken: null }, viewer: sessionViewer(found.tenant, found.user, found.session), em: vigil.services.db.forTenant(owner.tenantId), cookies: null, denials: [] };
    };
    const subscription = schema.getSubscriptionType()!;
    const differing = new Set<string>();
    for (const field of Object.values(subscription.getFields())) {
      const type = getNamedType(field.type) as GraphQLObjectType;
      const document = parse(`subscription { ${field.name} { ${selection(type, 1, new Set([type.name]))} } }`);
      const render = async (sessionId: string) => execute({ schema, document, rootValue: event, contextValue: await contextOf(sessionId) });
      const [a, b] = [await render(first.session.id), await render(second.session.id)];
      expect(a.data).not.toBeNull();
      differingFields(subscription, a, b, differing);
    }
    expect(differing.size).toBeGreaterThan(0); // the walk does reach fields that depend on the viewer
    const marked = new Set(markedFields());
    expect([...differing].filter((name) => !marked.has(name))).toEqual([]);
  });

  test('an operation selecting a marked field is not shared; one selecting none is', () => {
    const shared = parse('subscription { auditEvents { seq action actor { id displayName } } }');
    const perUser = parse('subscription { auditEvents { seq actor { lockedUntil } } }');
    expect(selectsViewerDependentFields(schema, shared)).toBe(false);
    expect(selectsViewerDependentFields(schema, perUser)).toBe(true);
    expect(markedFields().sort()).toEqual(['Query.breakGlassUnseen', 'Query.ownershipTransferOffered', 'Query.viewer', 'Session.current', 'User.lockedUntil', 'User.sessions']);
  });
});

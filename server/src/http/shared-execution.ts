import { randomBytes } from 'node:crypto';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * A subscription result serialised once and sent to every subscriber with the same operation: the
 * fan-out costs one execution and one JSON.stringify per event, not one per subscriber.
 */
export class PreSerialized {
  constructor(readonly json: string) {}
}

/**
 * graphql-ws stringifies each message with `replacer` and hands it to `send` right away, synchronously:
 * the payload is swapped for a marker there and the marker for the pre-serialised JSON here.
 */
export class RawPayloads {
  // Random per server: no client can predict the marker or smuggle it into its own message id.
  readonly #marker = `\u0000vigil-raw-${randomBytes(8).toString('hex')}`;
  readonly #markerJson = JSON.stringify(this.#marker);
  #pending: string | null = null;

  readonly replacer = (key: string, value: unknown): unknown => {
    if (key === 'payload' && value instanceof PreSerialized) {
      this.#pending = value.json;
      return this.#marker;
    }
    return value;
  };

  splice(data: string): string {
    if (this.#pending === null) return data;
    const raw = this.#pending;
    this.#pending = null;
    return data.replace(this.#markerJson, raw);
  }
}

/** Fields whose value depends on who asks: operations that select them are not shared between users. */
const VIEWER_DEPENDENT = new Set(['User.sessions', 'Session.current', 'Query.viewer']);

export function selectsViewerDependentFields(schema: ExecutionArgs['schema'], document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && VIEWER_DEPENDENT.has(`${parent.name}.${node.name.value}`)) found = true;
      },
    }),
  );
  return found;
}

/** Executions in flight or just done, by (event, operation, access) key. */
export class SharedExecutions {
  readonly #results = new LRUCache<string, Promise<PreSerialized>>({ max: 20_000, ttl: 60_000 });

  run(key: string, execute: () => Promise<ExecutionResult>): Promise<PreSerialized> {
    let result = this.#results.get(key);
    if (!result) {
      result = execute().then((r) => new PreSerialized(JSON.stringify(r)));
      this.#results.set(key, result);
      result.catch(() => this.#results.delete(key));
    }
    return result;
  }
}

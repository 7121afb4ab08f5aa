import { type DocumentNode, type ExecutionArgs, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { LRUCache } from 'lru-cache';

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

/**
 * Subscription results in flight or just done, serialised, by (tenant, event, operation) key: live events
 * are rendered once per operation by the tenant's feed, and replays to subscribers that reconnect at the
 * same point reuse the same JSON.
 */
export class SharedExecutions {
  readonly #results = new LRUCache<string, Promise<string>>({ max: 20_000, ttl: 60_000 });

  run(key: string, render: () => Promise<string>): Promise<string> {
    let result = this.#results.get(key);
    if (!result) {
      result = render();
      this.#results.set(key, result);
      result.catch(() => this.#results.delete(key));
    }
    return result;
  }
}

import { type DocumentNode, type ExecutionArgs, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { LRUCache } from 'lru-cache';
import { isViewerDependent } from '../builder.ts';

/**
 * Whether an operation selects a field whose value depends on who asks (marked `viewerDependent` where
 * the field is defined, see builder.ts): such operations are not shared between users with the same rights.
 */
export function selectsViewerDependentFields(schema: ExecutionArgs['schema'], document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (isViewerDependent(typeInfo.getFieldDef()?.extensions)) found = true;
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

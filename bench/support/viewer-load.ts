import { type GraphQLResponse, postRaw, requestBody, requestHeaders } from './graphql.ts';
import type { LoadSpec } from './load.ts';

/** The authenticated query of the viewer and flood benchmarks. */
export const VIEWER_QUERY = '{ viewer { user { id email } tenant { slug } session { id } } }';
/** The same without the session, which is null for an API key: both sides of the api-key benchmark use it. */
export const VIEWER_QUERY_NO_SESSION = '{ viewer { user { id email } tenant { slug } } }';

/**
 * Load of `query` sent with `Authorization: Bearer <credential>`. The answer is fetched once first and
 * must name a viewer; every response under load must then equal it byte for byte.
 */
export async function viewerLoad(label: string, baseUrl: string, query: string, credential: string, connections: number): Promise<LoadSpec> {
  const expected = await postRaw(baseUrl, query, undefined, credential);
  const parsed = JSON.parse(expected) as GraphQLResponse<{ viewer: unknown }>;
  if (parsed.errors || !parsed.data?.viewer) throw new Error(`${label}: the credential does not authenticate: ${expected}`);
  return { label, baseUrl, connections, requests: [{ headers: requestHeaders(credential), body: requestBody(query) }], expect: expected };
}

/** A GraphQL response as the benchmarks read it. */
export interface GraphQLResponse<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** As behind the TLS-terminating proxy the benchmarks stand in for (Vigil runs with PROXY_TERMINATES_TLS). */
export const FROM_TLS_PROXY = { 'x-forwarded-proto': 'https' } as const;

export const JSON_HEADERS = { 'content-type': 'application/json', ...FROM_TLS_PROXY } as const;

export function requestHeaders(credential?: string): Record<string, string> {
  return credential ? { ...JSON_HEADERS, authorization: `Bearer ${credential}` } : { ...JSON_HEADERS };
}

export function requestBody(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify(variables ? { query, variables } : { query });
}

/** One operation, for setting up a benchmark; returns the raw body so it can serve as expected output. */
export async function postRaw(baseUrl: string, query: string, variables?: Record<string, unknown>, credential?: string): Promise<string> {
  const response = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers: requestHeaders(credential), body: requestBody(query, variables) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text}`);
  return text;
}

/** One operation whose data the benchmark needs: any GraphQL error aborts the benchmark. */
export async function post<T>(baseUrl: string, query: string, variables?: Record<string, unknown>, credential?: string): Promise<T> {
  const parsed = JSON.parse(await postRaw(baseUrl, query, variables, credential)) as GraphQLResponse<T>;
  if (parsed.errors?.length || !parsed.data) throw new Error(`GraphQL error: ${JSON.stringify(parsed.errors)}`);
  return parsed.data;
}

/**
 * How a response body turned out: 'ok', or the first error code (INVALID_CREDENTIALS, RATE_LIMITED...),
 * or 'unexpected body'. Only failing bodies are parsed; see load.ts.
 */
export function outcomeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as GraphQLResponse<unknown>;
    const first = parsed.errors?.[0];
    if (first) return first.extensions?.code ?? 'error without code';
  } catch {
    // Not JSON: fall through.
  }
  return 'unexpected body';
}

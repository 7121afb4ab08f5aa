/** A GraphQL-over-HTTP client with a cookie jar, as a browser or an app would talk to Vigil. */
export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, any>; path?: string[] }>;
  headers: Headers;
}

export class GraphQLClient {
  readonly cookies = new Map<string, string>();
  bearer: string | null = null;
  extraHeaders: Record<string, string> = {};

  /** `path`: /graphql, or the operators' /ops/graphql. */
  constructor(
    readonly url: string,
    readonly path = '/graphql',
  ) {}

  async request<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...this.extraHeaders };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const response = await fetch(`${this.url}${this.path}`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    this.storeCookies(response.headers);
    const rotated = response.headers.get('vigil-session-token');
    if (rotated && this.bearer) this.bearer = rotated;
    const body = (await response.json()) as { data?: T; errors?: GraphQLResponse<T>['errors'] };
    return { status: response.status, data: body.data ?? null, errors: body.errors, headers: response.headers };
  }

  /** Like request, but fails the test on any GraphQL error. */
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  storeCookies(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The first error's code, for asserting on failures. */
export function errorCode(result: GraphQLResponse): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

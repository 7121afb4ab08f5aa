import { askForProof } from './step-up.svelte.ts';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A GraphQL error as Vigil sends it: a stable `code`, plus `fields`, `retryAfterSeconds` or `challenge` for some codes. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get fields(): FieldProblem[] {
    return (this.extensions.fields as FieldProblem[] | undefined) ?? [];
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** One GraphQL operation: resolves with `data`, or throws an ApiError carrying the first error's code. */
export type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** What one of Vigil's GraphQL endpoints means to the app that talks to it. */
export interface Endpoint {
  /** `/graphql` (the companies') or `/ops/graphql` (the platform operators'). */
  path: string;
  /** UNAUTHENTICATED: the session is gone. */
  onUnauthenticated(): void;
  /** A request was answered without error. */
  onAnswer(): void;
}

/**
 * The client of one endpoint over HTTP. The session travels in its HttpOnly cookie (same-origin
 * credentials); the JSON content type is what the server's CSRF protection asks for. STEP_UP_REQUIRED
 * opens the step-up dialog (step-up.svelte.ts) and, once proved, resends the very same request.
 */
export function graphqlClient(endpoint: Endpoint): Gql {
  const send = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(endpoint.path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError('Vigil cannot be reached. Check the connection and try again.', 'NETWORK');
    }
    const body = (await response.json().catch(() => null)) as GraphQLBody<T> | null;
    if (!body) throw new ApiError(`Vigil answered with HTTP ${response.status}.`, 'INTERNAL_SERVER_ERROR');
    const first = body.errors?.[0];
    if (first) {
      const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
      if (code === 'UNAUTHENTICATED') endpoint.onUnauthenticated();
      throw new ApiError(first.message, code, first.extensions ?? {});
    }
    endpoint.onAnswer();
    return body.data as T;
  };
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    try {
      return await send<T>(query, variables);
    } catch (error) {
      // Nothing ran: once the user proved who they are, the very same request goes again.
      if (error instanceof ApiError && error.code === 'STEP_UP_REQUIRED' && (await askForProof())) return send<T>(query, variables);
      throw error;
    }
  };
}

/** A sentence for the user about any failure. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.';
  if (error.code === 'STEP_UP_REQUIRED') return 'This needs you to confirm it is you. Nothing was changed.';
  if (error.code === 'RATE_LIMITED') {
    const seconds = Number(error.extensions.retryAfterSeconds ?? 0);
    return seconds > 0 ? `Too many attempts. Try again in ${seconds} s.` : error.message;
  }
  const fields = error.fields.map((f) => f.message);
  return fields.length ? `${error.message} ${fields.join(' ')}` : error.message;
}

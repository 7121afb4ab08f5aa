import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { type ExecutionResult, GraphQLError, type GraphQLSchema, Kind, getOperationAST } from 'graphql';
import { type Plugin, createYoga, isAsyncIterable, maskError } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { journalDenials } from '../access/denials.ts';
import { databaseUnavailable, readOnlyTransaction, statementTimedOut } from '../db/connection-errors.ts';
import { ErrorCode, badInput, clientError, serviceUnavailable, timedOut } from '../errors.ts';
import { idempotencyClaim, isIdempotencyKey, replayOf, storeAnswer } from '../idempotency/idempotency.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { admitSupportOperation } from '../support/support-journal.ts';
import type { PreparedRequest } from './prepare-request.ts';

/** What the HTTP and WebSocket layers hand to yoga for each operation. */
export interface ServerContext {
  vigil: PreparedRequest;
}

export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Query size limits: deep nesting, alias floods and huge documents are refused before execution. */
/** The cost limit leaves room for a full page of 100 journal events with every field (about 7,500). */
export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 15, maxDirectives: 10, maxTokens: 2000, maxCost: 12_000 } as const;

export function createGraphQLServer(services: Services, schema: GraphQLSchema, allowedOrigins: readonly string[]) {
  return vigilYoga<ServerContext, Context>(services, {
    schema,
    endpoint: '/graphql',
    allowedOrigins,
    context: ({ vigil }) => ({
      services,
      meta: vigil.meta,
      viewer: vigil.auth.viewer,
      em: vigil.auth.em,
      cookies: vigil.cookies,
      denials: [],
    }),
    plugins: [
      useSubscriptionsOverWebSocketOnly(),
      { onExecutionResult: ({ context }) => journalDenials(context as unknown as Context) } satisfies Plugin,
      useSupportJournal(),
      useIdempotencyKeys(services),
    ],
  });
}

/**
 * Idempotency-Key on a signed-in caller's mutation (idempotency/): a retry of the same request gets the first
 * answer and writes nothing; the key is claimed in the mutation's own transaction, its answer stored after.
 */
function useIdempotencyKeys(services: Services): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as unknown as Context;
      const key = ctx.meta.idempotencyKey;
      if (!key || !ctx.viewer || getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      if (!isIdempotencyKey(key)) {
        setResultAndStopExecution({ errors: [badInput([{ field: 'Idempotency-Key', message: 'Use 1 to 200 visible ASCII characters, such as a UUID.' }])] });
        return;
      }
      const { tenantId } = ctx.viewer;
      const claim = idempotencyClaim(ctx.viewer, key, { document: args.document, operationName: args.operationName, variables: args.variableValues });
      return replayOf(services, tenantId, claim).then((replay) => {
        if (replay instanceof GraphQLError) return setResultAndStopExecution({ errors: [replay] });
        if (replay) return setResultAndStopExecution(replay.response as ExecutionResult);
        ctx.idempotency = claim;
        return {
          onExecuteDone: ({ result }: { result: unknown }) => {
            if (claim.claimed && isExecutionResult(result)) return storeAnswer(services, tenantId, claim, JSON.parse(JSON.stringify(result)) as Record<string, unknown>);
          },
        };
      });
    },
  };
}

const isExecutionResult = (value: unknown): value is ExecutionResult => typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value);

/** Support's every operation journalled, and its mutations refused, before it runs (support/support-journal.ts). */
function useSupportJournal(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as unknown as Context;
      // Everybody else's operations go on at once: no promise on the hot path.
      if (ctx.viewer?.kind !== 'support') return;
      return admitSupportOperation(ctx, args.document, args.operationName).then((refused) => {
        if (refused) setResultAndStopExecution({ errors: [refused] });
      });
    },
  };
}

/**
 * A yoga as Vigil serves every GraphQL endpoint (the tenants' /graphql, the operators' /ops/graphql):
 * masked unexpected errors, stable codes, CSRF prevention, query limits, no caching, introspection off in
 * production, CORS for the allowed origins only.
 */
export function vigilYoga<SC extends object, C extends object>(
  services: Services,
  options: { schema: GraphQLSchema; endpoint: string; allowedOrigins: readonly string[]; context: (server: SC) => C; plugins?: Plugin[] },
) {
  const { config, log } = services;
  return createYoga<SC, C>({
    schema: options.schema,
    graphqlEndpoint: options.endpoint,
    batching: false,
    graphiql: !config.production,
    landingPage: false,
    logging: false,
    cors: corsFor(options.allowedOrigins),
    maskedErrors: {
      isDev: false,
      maskError: (error) => maskUnexpected(error as Error, log),
    },
    context: (initial) => options.context(initial as unknown as SC),
    plugins: [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useDisableIntrospection({ isDisabled: () => config.production }),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, flattenFragments: true },
        maxAliases: { n: QUERY_LIMITS.maxAliases },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives },
        maxTokens: { n: QUERY_LIMITS.maxTokens },
        costLimit: { maxCost: QUERY_LIMITS.maxCost },
        blockFieldSuggestion: { enabled: true },
      }),
      useStableErrorCodes(),
      useOperationMetrics(services.metrics, options.endpoint === '/graphql' ? 'graphql' : 'ops'),
      ...(options.plugins ?? []),
      useNoStore(),
    ],
  });
}

/**
 * Each executed operation counted and timed by its type and first root field: a name from the schema
 * (validation ran first), never the client's operation name, which anyone could make unbounded.
 */
function useOperationMetrics(metrics: Services['metrics'], api: string): Plugin {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const operation = getOperationAST(args.document, args.operationName);
      const first = operation?.selectionSet.selections[0];
      const field = first?.kind === Kind.FIELD ? first.name.value : 'fragment';
      return {
        onExecuteDone({ result }) {
          const failed = !isAsyncIterable(result) && Boolean(result.errors?.length);
          metrics.operation(api, operation?.operation ?? 'unknown', field, failed ? 'error' : 'ok', (performance.now() - started) / 1000);
        },
      };
    },
  };
}

/**
 * CORS headers only for an allowed origin, echoed exactly; any other origin, the opaque `null` of sandboxed
 * frames and `data:` documents included, gets none (yoga's own list answers `null` with credentials).
 */
function corsFor(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || origin === 'null' || !allowed.has(origin)) return false;
    return { origin, credentials: true, exposedHeaders: ['Vigil-Session-Token'] };
  };
}

/** Expected errors pass through unchanged; anything else is logged and reaches the client as "Unexpected error.". */
export function maskUnexpected<E>(error: E, log: Logger): E | GraphQLError {
  if (databaseUnavailable(error)) {
    log.debug({ err: error }, 'database unavailable during a GraphQL operation');
    return serviceUnavailable();
  }
  if (readOnlyTransaction(error)) return clientError(ErrorCode.FORBIDDEN, 'Support access is read-only.') as E | GraphQLError;
  if (statementTimedOut(error)) {
    log.warn({ err: error }, 'a statement ran past the statement timeout and was cancelled');
    return timedOut();
  }
  const masked = maskError(error, 'Unexpected error.', false);
  if (masked !== error) log.error({ err: error }, 'unexpected error in a GraphQL operation');
  return masked as E | GraphQLError;
}

const CLIENT_CODES = new Set<string>([...Object.values(ErrorCode), 'INTERNAL_SERVER_ERROR']);

/**
 * Parse, validation, coercion and limit errors come with other codes, or none: to clients they are bad
 * input. Over HTTP through the plugin below, over WebSocket called directly (websocket.ts).
 */
export function withStableCode<E extends { extensions: Record<string, unknown> }>(error: E): E {
  const extensions = error.extensions;
  if (!CLIENT_CODES.has(String(extensions.code))) extensions.code = ErrorCode.BAD_USER_INPUT;
  // yoga attaches the JSON parser's own error (with a slice of the body) to "invalid JSON" answers.
  delete extensions.originalError;
  return error;
}

function useStableErrorCodes(): Plugin {
  return {
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const single of results) {
        if (!single || typeof single !== 'object' || !('errors' in single) || !Array.isArray(single.errors)) continue;
        for (const error of single.errors) withStableCode(error);
      }
    },
  };
}

/**
 * Subscriptions run over graphql-ws only: there a socket is closed the moment its session or permission
 * goes away (LiveSockets). A server-sent-events stream over HTTP would outlive a revoked session.
 */
function useSubscriptionsOverWebSocketOnly(): Plugin {
  return {
    onSubscribe({ setResultAndStopExecution }) {
      setResultAndStopExecution({
        errors: [clientError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) at /graphql.')],
      });
    },
  };
}

/** Answers about credentials and journals must never sit in a shared cache. */
function useNoStore(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('Cache-Control', 'no-store');
    },
  };
}

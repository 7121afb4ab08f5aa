import { graphqlClient } from './graphql.ts';
import { SESSION_ENDED, endSession, session } from './session.svelte.ts';

export { ApiError, type FieldProblem, describeError } from './graphql.ts';

/**
 * The companies' GraphQL endpoint. UNAUTHENTICATED means the session is gone: the user is sent back to
 * sign-in. STEP_UP_REQUIRED opens the step-up dialog and, once proved, resends the request.
 */
export const gql = graphqlClient({
  path: '/graphql',
  onUnauthenticated: () => endSession(SESSION_ENDED),
  onAnswer: () => (session.lastActivityAt = Date.now()),
});

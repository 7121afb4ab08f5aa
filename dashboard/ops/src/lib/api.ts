import { graphqlClient } from '../../../src/lib/graphql.ts';
import { SESSION_ENDED, desk, settle } from './operator.svelte.ts';
import type { CurrentOperator, Operator } from './types.ts';

/** The operators' endpoint: its own cookie; a company's session is no credential there. */
export const ops = graphqlClient({
  path: '/ops/graphql',
  onUnauthenticated: () => settle(null, SESSION_ENDED),
  onAnswer: () => (desk.lastAnswerAt = Date.now()),
});

const OPERATOR = 'id email displayName slot sessionExpiresAt proofValidUntil';

export async function fetchMe(): Promise<CurrentOperator | null> {
  return (await ops<{ me: CurrentOperator | null }>(`query Me { me { ${OPERATOR} } }`)).me;
}

/** Password and code together: TOTP is mandatory for operators. The token in the answer is never read (the cookie is set). */
export async function signIn(input: { email: string; password: string; totpCode: string }): Promise<void> {
  const data = await ops<{ operatorSignIn: { operator: CurrentOperator } }>(
    `mutation OperatorSignIn($i: OperatorSignInInput!) { operatorSignIn(input: $i) { operator { ${OPERATOR} } } }`,
    { i: input },
  );
  settle(data.operatorSignIn.operator);
}

export async function stepUp(password: string, totpCode: string): Promise<void> {
  const data = await ops<{ operatorStepUp: CurrentOperator }>(`mutation OperatorStepUp($i: OperatorProofInput!) { operatorStepUp(input: $i) { ${OPERATOR} } }`, {
    i: { password, totpCode },
  });
  desk.operator = data.operatorStepUp;
}

export async function signOut(): Promise<void> {
  try {
    await ops(`mutation OperatorSignOut { operatorSignOut }`);
  } finally {
    settle(null, 'You have signed out.');
  }
}

export async function loadOperators(): Promise<Operator[]> {
  return (await ops<{ operators: Operator[] }>('query Operators { operators { id email displayName slot createdAt approvedAt disabledAt } }')).operators;
}

import { generate } from 'otplib';
import type { CreatedOperator } from '../../server/src/platform/operators.ts';
import { GraphQLClient } from './client.ts';
import type { TestVigil } from './vigil.ts';

/** A code of the operator's app at Vigil's clock, one TOTP step (30 s) after the last: a step is accepted once. */
export async function nextOperatorCode(vigil: TestVigil, operator: CreatedOperator): Promise<string> {
  vigil.clock.advance(30);
  return generate({ secret: operator.totp.secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });
}

/**
 * The operator signed in on /ops/graphql with password and code, 30 s (a TOTP step) after the last sign-in
 * (a code is accepted once): a fresh proof for five minutes.
 */
export async function signedInOperator(vigil: TestVigil, operator: CreatedOperator): Promise<GraphQLClient> {
  const totpCode = await nextOperatorCode(vigil, operator);
  const client = new GraphQLClient(vigil.url, '/ops/graphql');
  await client.ok('mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { token } }', { i: { email: operator.email, password: operator.password, totpCode } });
  return client;
}

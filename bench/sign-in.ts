import { type Account, SIGN_IN_MUTATION, signUpMany } from './support/accounts.ts';
import { argon2VerifyRate } from './support/argon2-rate.ts';
import type { Benchmark } from './support/benchmark.ts';
import { requestBody, requestHeaders } from './support/graphql.ts';
import { compare, loadPhase } from './support/compare.ts';
import type { LoadSpec } from './support/load.ts';

/** An address of the benchmarking range (RFC 2544, 198.18.0.0/15) for connection i. */
function clientAddress(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/**
 * signIn from `accounts.length` connections, each on its own account with the right password and
 * its own client address, as many users behind a reverse proxy. Why: the server counts an attempt
 * before hashing (per account and per address) and forgets it on success, so attempts in flight look
 * like failures. Sharing an account or an address across connections would measure the brute-force
 * protection (RATE_LIMITED without hashing) instead of sign-in: past its thresholds, and even below them
 * (concurrent attempts on one key were seen to get RATE_LIMITED). Any RATE_LIMITED is still reported.
 */
export function signInLoad(label: string, baseUrl: string, accounts: Account[]): LoadSpec {
  return {
    label,
    baseUrl,
    connections: accounts.length,
    requests: accounts.map((account, i) => ({
      headers: { ...requestHeaders(), 'x-forwarded-for': clientAddress(i) },
      body: requestBody(SIGN_IN_MUTATION, { i: account }),
    })),
    // A token, not an error: cheaper than parsing and exact enough (errors come first in yoga's output).
    expect: (body) => body.startsWith('{"data":{"signIn":{"token":"'),
  };
}

/** Sign-in is argon2 plus bookkeeping: the bookkeeping should cost at most a fifth of the hashing rate. */
export const signInBenchmark: Benchmark = {
  name: 'sign-in',
  title: 'signIn mutations/s (right password) vs raw argon2id verifies/s at the server hashing cap',
  target: 0.8,
  async run(ctx) {
    const { passwordHashConcurrency, signInConnections } = ctx.settings;
    const vigil = await ctx.startVigil();
    const accounts = await signUpMany(vigil.url, 'bench-sign-in', signInConnections);
    const measured = await compare(
      ctx,
      { label: `raw argon2id verify, ${passwordHashConcurrency} at a time`, run: (seconds) => argon2VerifyRate(passwordHashConcurrency, seconds) },
      loadPhase(signInLoad('Vigil signIn', vigil.url, accounts)),
    );
    return {
      ...measured,
      notes: [`hashing cap PASSWORD_HASH_CONCURRENCY=${passwordHashConcurrency} on both sides; ${accounts.length} accounts and client addresses, one per connection`],
    };
  },
};

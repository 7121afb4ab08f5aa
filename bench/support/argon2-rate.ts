import * as argon2 from 'argon2';
import { ARGON2_FLOOR } from '../../server/src/config.ts';
import { PASSWORD } from './accounts.ts';
import type { Measurement } from './load.ts';

/**
 * The sign-in baseline: how many argon2id verifications per second this machine does with the
 * server's parameters (its floor, which the benchmark server runs at) and `concurrency` at a time,
 * the server's cap. Runs in this process while the servers sit idle.
 */
export async function argon2VerifyRate(concurrency: number, durationSeconds: number): Promise<Measurement> {
  const digest = await argon2.hash(PASSWORD, { type: argon2.argon2id, ...ARGON2_FLOOR });
  const latenciesMs: number[] = [];
  let failures = 0;
  const start = performance.now();
  const deadline = start + durationSeconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const began = performance.now();
      if (await argon2.verify(digest, PASSWORD)) latenciesMs.push(performance.now() - began);
      else failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - start) / 1000;
  latenciesMs.sort((a, b) => a - b);
  return {
    label: `argon2id verify m=${ARGON2_FLOOR.memoryCost} t=${ARGON2_FLOOR.timeCost} p=${ARGON2_FLOOR.parallelism}`,
    connections: concurrency,
    durationSeconds: seconds,
    ok: latenciesMs.length,
    perSecond: latenciesMs.length / seconds,
    p99Ms: latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(latenciesMs.length * 0.99))] ?? 0,
    meanMs: latenciesMs.reduce((sum, ms) => sum + ms, 0) / Math.max(1, latenciesMs.length),
    failures: failures ? { 'verify false': failures } : {},
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
  };
}

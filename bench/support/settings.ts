import { availableParallelism } from 'node:os';

/** How long and how hard each measurement runs; the same values apply to a figure and its baseline. */
export interface BenchSettings {
  /** Measured time of each side of a comparison (see compare.ts). */
  durationSeconds: number;
  /** Discarded load before each side is measured: JIT, connection pools and caches warm up. */
  warmupSeconds: number;
  /** How many times the measurement alternates between baseline and figure (see compare.ts). */
  rounds: number;
  /** Connections of the query benchmarks (viewer, api key, the flood's queries). */
  queryConnections: number;
  /** Connections sending sign-ins: one account and one client address each (see sign-in.ts). */
  signInConnections: number;
  /** The server's cap on concurrent argon2 computations, passed to it explicitly so both sides agree. */
  passwordHashConcurrency: number;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/**
 * A session token rotates after 300 s by default (and the old one, presented 30 s later, revokes the
 * session): one benchmark signs in once, so its measuring (two warm-ups, a little over twice the
 * duration, pauses) must end well before that.
 */
const MAX_MEASURING_SECONDS = 240;

export function loadSettings(): BenchSettings {
  const settings = {
    durationSeconds: positive('BENCH_DURATION_SECONDS', 10),
    warmupSeconds: positive('BENCH_WARMUP_SECONDS', 3),
    rounds: positive('BENCH_ROUNDS', 2),
    queryConnections: positive('BENCH_CONNECTIONS', 50),
    signInConnections: positive('BENCH_SIGN_IN_CONNECTIONS', 32),
    passwordHashConcurrency: positive('PASSWORD_HASH_CONCURRENCY', availableParallelism()),
  };
  // Each of the 2 * rounds + 3 runs is followed by a pause of a second or more (compare.ts).
  const measuringSeconds = 2 * (settings.warmupSeconds + settings.durationSeconds + settings.rounds) + 3 * settings.rounds + 3;
  if (measuringSeconds > MAX_MEASURING_SECONDS) {
    throw new Error(`BENCH_DURATION_SECONDS, BENCH_WARMUP_SECONDS and BENCH_ROUNDS ask for ~${measuringSeconds} s of measuring per benchmark: more than ${MAX_MEASURING_SECONDS} s (session token rotation)`);
  }
  return settings;
}

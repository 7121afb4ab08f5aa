import * as argon2 from 'argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import { rateLimited } from '../errors.ts';
import { EventLoopLoad } from '../event-loop.ts';
import { newSecret } from '../tokens.ts';

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Waiting hashes beyond this many per slot are refused: a flood gets RATE_LIMITED, not a growing queue. */
const QUEUE_PER_SLOT = 64;

export interface HasherOptions {
  /**
   * libuv's threadpool, where argon2 runs, is no larger than the cap (server/start.mjs sizes it so):
   * then one hash more may wait in it, since the pool itself keeps the cap.
   */
  threadpoolIsCap?: boolean;
  /** The app's view of its event loop (one fewer hash while busy); the hasher's own when absent. */
  load?: EventLoopLoad;
}

/**
 * argon2id behind a concurrency cap near the core count: a login flood queues here instead of
 * occupying every libuv thread and starving the queries of everyone else.
 *
 * When libuv's threadpool is the cap, one hash more waits in the pool while the event loop has room, so
 * a thread that finishes a hash starts the next at once instead of idling until the event loop hands it
 * one. While the event loop is busy, one hash fewer runs (at least one): it is serving everyone else.
 */
export class PasswordHasher {
  readonly #parameters: Argon2Parameters;
  readonly #limit: LimitFunction;
  readonly #maxQueue: number;
  readonly #cap: number;
  readonly #lookahead: boolean;
  readonly #load: EventLoopLoad;
  #dummyHash: Promise<string> | undefined;
  #verifications = 0;

  constructor(parameters: Argon2Parameters, concurrency: number, options: HasherOptions = {}) {
    this.#parameters = parameters;
    this.#cap = concurrency;
    this.#lookahead = options.threadpoolIsCap ?? false;
    this.#load = options.load ?? new EventLoopLoad();
    this.#limit = pLimit(concurrency);
    this.#maxQueue = concurrency * QUEUE_PER_SLOT;
  }

  hash(password: string): Promise<string> {
    return this.#run(() => argon2.hash(password, { type: argon2.argon2id, ...this.#parameters }));
  }

  /**
   * Verifies against the stored hash, or against a dummy hash when there is none,
   * so an unknown account takes as long as a wrong password.
   */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    const digest = storedHash ?? (await this.#dummy());
    this.#verifications += 1;
    const matches = await this.#run(() => argon2.verify(digest, password));
    return storedHash !== null && matches;
  }

  /** Verifications so far, real or dummy: every sign-in attempt costs exactly one. */
  get verifications(): number {
    return this.#verifications;
  }

  /** Hashes handed to libuv right now: at most the cap, or one more waiting there when it is the cap. */
  get running(): number {
    return this.#limit.activeCount;
  }

  /** Hashes queued behind the cap. */
  get waiting(): number {
    return this.#limit.pendingCount;
  }

  /** True when the hash was made with other parameters than the current ones: rehash on sign-in. */
  needsRehash(storedHash: string): boolean {
    return argon2.needsRehash(storedHash, this.#parameters);
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= this.hash(newSecret());
    return this.#dummyHash;
  }

  #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#limit.pendingCount >= this.#maxQueue) return Promise.reject(rateLimited(1));
    this.#limit.concurrency = this.#concurrencyNow();
    return this.#limit(work);
  }

  /**
   * Busy serving requests, the event loop gets a core back: sessions already open come before new ones
   * under a sign-in flood. Otherwise, with the threadpool as the cap, one hash more waits in it.
   */
  #concurrencyNow(): number {
    if (this.#load.busy()) return Math.max(1, this.#cap - 1);
    return this.#lookahead ? this.#cap + 1 : this.#cap;
  }
}

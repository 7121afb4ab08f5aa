import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

/** A token bucket: refilled continuously at ratePerSecond, holding at most burst tokens. */
export interface BucketRule {
  ratePerSecond: number;
  burst: number;
}

export interface FairUseRules {
  session: BucketRule;
  apiKey: BucketRule;
  address: BucketRule;
}

/**
 * Generous on purpose: these budgets stop floods and runaway scripts, not normal use.
 * - session: a person at the dashboard; a page load fans out into dozens of operations at once
 *   (hence the burst), but no human sustains more than a few per second.
 * - apiKey: an integration syncing records in bulk runs steadily faster than a person, and may
 *   replay a backlog after its own outage.
 * - address: many people and integrations can share one address (an office NAT, a proxy); it is
 *   the backstop for traffic with neither a session nor a key, so it is the widest.
 */
export const DEFAULT_FAIR_USE: FairUseRules = {
  session: { ratePerSecond: 20, burst: 200 },
  apiKey: { ratePerSecond: 50, burst: 500 },
  address: { ratePerSecond: 100, burst: 1000 },
};

/** id: a session id, an API key id or an address as text; anything goes, colons included. */
export type BudgetKey = { kind: keyof FairUseRules; id: string };

export interface FairUse {
  /** Takes one token from every key's bucket, all or nothing as far as possible; null when allowed, else the seconds to wait (integer >= 1) for the bucket that refused. */
  take(keys: BudgetKey[]): Promise<number | null>;
  close(): Promise<void>;
}

export interface FairUseOptions {
  rules: FairUseRules;
  clock: Clock;
  /** Owned by the caller, who quits it; null or absent: every instance keeps its own budget. */
  redis?: Redis | null;
  prefix: string;
  log: Logger;
  /** A Redis answer later than this counts as an outage: a slow limiter must not hold up every request. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 250;
// Past the time to refill fully a bucket is full, as if it did not exist; the margin absorbs clock skew between instances.
const EXPIRY_MARGIN_MS = 5_000;
const MEMORY_BUCKETS = 100_000;

/*
 * KEYS: one hash {tokens, at} per bucket. ARGV[1]: the caller's now in ms (the caller's clock, so that
 * tests can move it); then per key: rate per second, burst, expiry in ms. Every bucket is checked
 * before any is taken from, so a refusal takes nothing. Returns 0 when allowed, else the seconds to
 * wait. `at` never moves back: an instance whose clock lags another's refills nothing rather than
 * crediting the same interval twice.
 */
const TAKE_SCRIPT = `
local now = tonumber(ARGV[1])
local tokens, at, wait = {}, {}, 0
for i = 1, #KEYS do
  local rate, burst = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local t, last = tonumber(state[1]), tonumber(state[2])
  if t == nil or last == nil then
    t, last = burst, now
  elseif now > last then
    t, last = math.min(burst, t + (now - last) * rate / 1000), now
  else
    t = math.min(burst, t)
  end
  tokens[i], at[i] = t, last
  if t < 1 then wait = math.max(wait, math.max(1, math.ceil((1 - t) / rate))) end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'tokens', tokens[i] - 1, 'at', at[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i + 1])
end
return 0
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

interface Bucket {
  tokens: number;
  at: number;
}

interface Target {
  name: string;
  rule: BucketRule;
}

export function createFairUse(options: FairUseOptions): FairUse {
  for (const [kind, rule] of Object.entries(options.rules)) checkRule(kind, rule);
  const { rules, clock, redis, log } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const memory = new LRUCache<string, Bucket>({ max: MEMORY_BUCKETS });
  const inFlight = new Set<Promise<unknown>>();
  let degraded = false;
  let closed = false;

  const fellBack = (reason: string) => {
    if (degraded) return;
    degraded = true;
    log.warn({ fairUse: 'memory', reason }, 'Fair-use budget: Redis unavailable, each instance keeps its own budget until it is back');
  };
  const recovered = () => {
    if (!degraded) return;
    degraded = false;
    log.info({ fairUse: 'redis' }, 'Fair-use budget: Redis back, the budget is shared again');
  };

  const takeFromRedis = async (client: Redis, targets: Target[], nowMs: number): Promise<number | null> => {
    const args: Array<string | number> = [...targets.map((t) => t.name), nowMs];
    for (const { rule } of targets) args.push(rule.ratePerSecond, rule.burst, Math.ceil((rule.burst / rule.ratePerSecond) * 1000) + EXPIRY_MARGIN_MS);
    const call = evalTake(client, targets.length, args);
    inFlight.add(call);
    // A call given up on may still settle: its outcome is dropped, never left unhandled.
    call.then(() => inFlight.delete(call), () => inFlight.delete(call));
    const reply = await withTimeout(call, timeoutMs);
    if (typeof reply !== 'number') throw new Error(`unexpected reply from the fair-use script: ${typeof reply}`);
    return reply === 0 ? null : reply;
  };

  return {
    async take(keys) {
      const targets = uniqueTargets(keys, rules, options.prefix);
      if (targets.length === 0) return null;
      const nowMs = clock.now().getTime();
      if (redis && !closed) {
        if (redis.status === 'ready') {
          try {
            const result = await takeFromRedis(redis, targets, nowMs);
            recovered();
            return result;
          } catch (error) {
            fellBack(describe(error));
          }
        } else {
          fellBack(`status ${redis.status}`);
        }
      }
      return takeFromMemory(memory, targets, nowMs);
    },
    async close() {
      closed = true;
      // The caller may quit the client next: let what was sent settle first, so nothing logs after close.
      await Promise.allSettled([...inFlight]);
      memory.clear();
    },
  };
}

function checkRule(kind: string, rule: BucketRule): void {
  if (!(rule.ratePerSecond > 0) || !Number.isFinite(rule.ratePerSecond) || !(rule.burst >= 1) || !Number.isFinite(rule.burst)) {
    throw new Error(`fair use: ${kind} needs ratePerSecond > 0 and burst >= 1`);
  }
}

/** The same bucket named twice would need two tokens from one check: each is taken once. */
function uniqueTargets(keys: BudgetKey[], rules: FairUseRules, prefix: string): Target[] {
  const byName = new Map<string, Target>();
  for (const { kind, id } of keys) {
    // kind has no colon, so the id can hold any: one key never spells another.
    const name = `${prefix}:fair-use:${kind}:${id}`;
    byName.set(name, { name, rule: rules[kind] });
  }
  return [...byName.values()];
}

async function evalTake(client: Redis, keyCount: number, args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(TAKE_SHA, keyCount, ...args);
  } catch (error) {
    // A restarted or flushed Redis forgets its scripts; EVAL sends it again and caches it.
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(TAKE_SCRIPT, keyCount, ...args);
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}

/** The script's arithmetic, for one instance alone. */
function takeFromMemory(memory: LRUCache<string, Bucket>, targets: Target[], nowMs: number): number | null {
  let wait = 0;
  const next = targets.map(({ name, rule }) => {
    const bucket = refill(memory.get(name), rule, nowMs);
    if (bucket.tokens < 1) wait = Math.max(wait, Math.max(1, Math.ceil((1 - bucket.tokens) / rule.ratePerSecond)));
    return bucket;
  });
  if (wait > 0) return wait;
  targets.forEach(({ name }, i) => memory.set(name, { tokens: next[i].tokens - 1, at: next[i].at }));
  return null;
}

function refill(bucket: Bucket | undefined, rule: BucketRule, nowMs: number): Bucket {
  if (!bucket) return { tokens: rule.burst, at: nowMs };
  if (nowMs <= bucket.at) return { tokens: Math.min(rule.burst, bucket.tokens), at: bucket.at };
  return { tokens: Math.min(rule.burst, bucket.tokens + ((nowMs - bucket.at) * rule.ratePerSecond) / 1000), at: nowMs };
}

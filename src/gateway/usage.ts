/**
 * Budget and rate per token: one atomic "spend" per request. In memory for one instance; in Redis (one Lua
 * script call per request) for every instance that shares it. A store that cannot answer refuses: the caller
 * turns the error into a 503, so no request ever goes out unbudgeted.
 */

export type SpendResult =
  | { outcome: 'ok'; used: number }
  | { outcome: 'budget_exhausted' }
  | { outcome: 'rate_limited'; retryAfterSeconds: number };

export interface SpendRequest {
  /** A hash of the token's jti (or iss:iat:sub): never the token itself. */
  key: string;
  maxRequests: number;
  ratePerSecond: number;
  nowMs: number;
  /** How long the budget must be remembered: the token's remaining life. */
  ttlSeconds: number;
}

export interface UsageStore {
  spend(request: SpendRequest): Promise<SpendResult>;
  close(): Promise<void>;
}

export class UsageStoreUnavailableError extends Error {
  override name = 'UsageStoreUnavailableError';
}

/** Fixed one-second windows: `ratePerSecond` requests in the window that `nowMs` falls in. */
function windowOf(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

export function createMemoryUsageStore(): UsageStore {
  const entries = new Map<string, { used: number; window: number; inWindow: number; expiresAtMs: number }>();
  let sweeps = 0;
  return {
    async spend({ key, maxRequests, ratePerSecond, nowMs, ttlSeconds }) {
      // Expired entries are dropped every 1024 spends, so memory follows the live tokens only.
      if ((sweeps = (sweeps + 1) % 1024) === 0) {
        for (const [k, e] of entries) if (e.expiresAtMs <= nowMs) entries.delete(k);
      }
      let entry = entries.get(key);
      if (!entry || entry.expiresAtMs <= nowMs) {
        entry = { used: 0, window: windowOf(nowMs), inWindow: 0, expiresAtMs: nowMs + ttlSeconds * 1000 };
        entries.set(key, entry);
      }
      if (entry.used >= maxRequests) return { outcome: 'budget_exhausted' };
      const window = windowOf(nowMs);
      if (entry.window !== window) {
        entry.window = window;
        entry.inWindow = 0;
      }
      if (entry.inWindow >= ratePerSecond) return { outcome: 'rate_limited', retryAfterSeconds: 1 };
      entry.used += 1;
      entry.inWindow += 1;
      return { outcome: 'ok', used: entry.used };
    },
    async close() {
      entries.clear();
    },
  };
}

/**
 * KEYS[1] the token's hash key; ARGV: maxRequests, ratePerSecond, window, ttlSeconds.
 * Returns {0, used} ok, {1} budget exhausted, {2} rate limited. One script = one atomic step for all instances.
 */
export const SPEND_SCRIPT = `
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if used >= tonumber(ARGV[1]) then return {1} end
local window = redis.call('HGET', KEYS[1], 'win')
local inWindow = 0
if window == ARGV[3] then inWindow = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') end
if inWindow >= tonumber(ARGV[2]) then return {2} end
redis.call('HSET', KEYS[1], 'used', used + 1, 'win', ARGV[3], 'n', inWindow + 1)
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return {0, used + 1}
`;

/** The part of a Redis client the store needs (ioredis's `eval`/`evalsha`), so tests and other clients fit. */
export interface RedisScriptClient {
  spend(key: string, maxRequests: number, ratePerSecond: number, window: number, ttlSeconds: number): Promise<unknown>;
  quit(): Promise<unknown>;
}

export function createRedisUsageStore(client: RedisScriptClient, options: { timeoutMs: number; prefix?: string }): UsageStore {
  const prefix = options.prefix ?? 'oc-gw:usage:';
  return {
    async spend({ key, maxRequests, ratePerSecond, nowMs, ttlSeconds }) {
      let reply: unknown;
      try {
        reply = await withTimeout(
          client.spend(prefix + key, maxRequests, ratePerSecond, windowOf(nowMs), Math.max(1, Math.ceil(ttlSeconds))),
          options.timeoutMs,
        );
      } catch (error) {
        throw new UsageStoreUnavailableError('budget store (Redis) unavailable', { cause: error });
      }
      if (!Array.isArray(reply)) throw new UsageStoreUnavailableError('budget store (Redis) gave an unexpected reply');
      const [code, used] = reply as [number, number | undefined];
      if (code === 0) return { outcome: 'ok', used: Number(used) };
      if (code === 1) return { outcome: 'budget_exhausted' };
      return { outcome: 'rate_limited', retryAfterSeconds: 1 };
    },
    async close() {
      await client.quit().catch(() => undefined);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

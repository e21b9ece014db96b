/**
 * The Redis connection for the shared budget (ioredis, imported only when REDIS_URL is set, so a memory-only
 * gateway and a Workers bundle never load it).
 */
import { SPEND_SCRIPT, type RedisScriptClient } from './usage.js';

export interface RedisConnectOptions {
  url: string;
  /** Bound on one command; commands while disconnected fail at once instead of queueing. */
  timeoutMs: number;
}

export async function connectRedis(options: RedisConnectOptions): Promise<RedisScriptClient> {
  const { Redis } = await import('ioredis');
  const client = new Redis(options.url, {
    // Fail closed, fast: no offline queue, no per-command retries; the connection itself keeps reconnecting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    lazyConnect: true,
    // Spends issued in the same event-loop turn go out in one write (one syscall) instead of one write each.
    enableAutoPipelining: true,
  });
  // Connection errors surface as refused requests; the event must have a listener or Node crashes the process.
  client.on('error', () => undefined);
  client.defineCommand('ocGatewaySpend', { numberOfKeys: 1, lua: SPEND_SCRIPT });
  // Wait for the first connection, bounded: a Redis that is down at start means refused requests, not no gateway.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.connect().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const withScript = client as typeof client & {
    ocGatewaySpend(key: string, ...args: Array<string | number>): Promise<unknown>;
  };
  return {
    spend: (key, maxRequests, ratePerSecond, window, ttlSeconds) =>
      withScript.ocGatewaySpend(key, maxRequests, ratePerSecond, window, ttlSeconds),
    quit: async () => {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

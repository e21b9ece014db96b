/**
 * The keyless-CI gateway (`opencode-oauth-machines/gateway`): validate a CI OIDC token, spend its budget,
 * forward with the upstream credential injected. Never imported by the plugin entry.
 *
 *   const gateway = await createGateway(loadGatewayConfig(process.env));
 *   const host = await serveNode(gateway, { port: 8080 });
 */
import type { Hono } from 'hono';
import { createGatewayApp } from './app.js';
import { DEFAULTS, type GatewayConfig } from './config.js';
import { credentialSource } from './engineCredential.js';
import { bufferedStdoutLogger, type GatewayLogger } from './log.js';
import { GatewayMetrics } from './metrics.js';
import { connectRedis } from './redis.js';
import { nodeHttpFetch } from './nodeHttpFetch.js';
import { runtimeFetch } from './upstreamFetch.js';
import { createMemoryUsageStore, createRedisUsageStore, type UsageStore } from './usage.js';
import { trustedIssuers } from './verify.js';

export { createGatewayApp, type GatewayAppDeps } from './app.js';
export { loadGatewayConfig, GatewayConfigError, ALLOWED_ALGS, DEFAULTS, gatewayFileSchema, type GatewayConfig, type IssuerConfig } from './config.js';
export { GATEWAY_CONFIG_JSON_SCHEMA } from './configSchema.js';
export { createMemoryUsageStore, createRedisUsageStore, SPEND_SCRIPT, type UsageStore, type SpendResult } from './usage.js';
export { issuerKeys, IssuerUnavailableError } from './keys.js';
export { verifyToken, tokenFrom, TokenRejected, type Check } from './verify.js';
export { GatewayMetrics } from './metrics.js';
export { bufferedStdoutLogger, jsonLineLogger, type BufferedLogger, silentGatewayLogger, type GatewayLogger, type RequestLog } from './log.js';
export { serveNode, type NodeHost } from './node.js';
export { runtimeFetch, type UpstreamFetch, type UpstreamReply } from './upstreamFetch.js';
export { nodeHttpFetch } from './nodeHttpFetch.js';

export interface Gateway {
  app: Hono;
  /** `env`: the host's bindings (on Node, @hono/node-server's `{ incoming, outgoing }`). */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

export interface CreateGatewayOptions {
  logger?: GatewayLogger;
  /** Replace the budget store (e.g. a Durable Object on Workers); default memory, or Redis with `redisUrl`. */
  usage?: UsageStore;
  now?: () => number;
  /** `node` (default): node:http with keep-alive; `fetch`: the runtime's fetch. */
  upstreamClient?: 'node' | 'fetch';
  fetchTimeoutMs?: number;
  redisTimeoutMs?: number;
}

/** Wire the real parts: issuer key sets, the budget store, the upstream credential. */
export async function createGateway(config: GatewayConfig, options: CreateGatewayOptions = {}): Promise<Gateway> {
  const issuers = trustedIssuers(config.issuers, options.fetchTimeoutMs ?? DEFAULTS.fetchTimeoutMs);
  const redisTimeoutMs = options.redisTimeoutMs ?? DEFAULTS.redisTimeoutMs;
  const usage =
    options.usage ??
    (config.redisUrl
      ? createRedisUsageStore(await connectRedis({ url: config.redisUrl, timeoutMs: redisTimeoutMs }), { timeoutMs: redisTimeoutMs })
      : createMemoryUsageStore());
  const credential = await credentialSource(config.upstream.credential, config.upstream.url);
  const metrics = new GatewayMetrics();
  const ownLogger = options.logger ? undefined : bufferedStdoutLogger();
  const app = createGatewayApp({
    config,
    issuers,
    usage,
    credential,
    metrics,
    logger: options.logger ?? ownLogger,
    upstreamFetch: options.upstreamClient === 'fetch' ? runtimeFetch() : nodeHttpFetch(),
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    app,
    fetch: (request, env) => app.fetch(request, env),
    metrics,
    async close() {
      credential.stop();
      ownLogger?.flush();
      await usage.close();
    },
  };
}

/**
 * Cloudflare Workers entry (`opencode-oauth-machines/gateway/workers`): the same fetch app, configured from
 * the Worker's env bindings on the first request. Budgets live in the isolate's memory (see docs/gateway.md:
 * exact only per isolate; a shared budget needs a store reachable from Workers).
 */
import type { Hono } from 'hono';
import { createGatewayApp } from './app.js';
import { DEFAULTS, loadGatewayConfig } from './config.js';
import { staticCredential } from './credential.js';
import { jsonLineLogger } from './log.js';
import { createMemoryUsageStore } from './usage.js';
import { trustedIssuers } from './verify.js';

let app: Hono | undefined;

function appFor(env: Record<string, unknown>): Hono {
  if (app) return app;
  const strings = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const config = loadGatewayConfig(strings);
  if (config.upstream.credential.kind !== 'static') throw new Error('gateway on Workers: give UPSTREAM_API_KEY');
  if (config.redisUrl) throw new Error('gateway on Workers: REDIS_URL is not supported (no TCP Redis client here)');
  const key = config.upstream.credential.key;
  app = createGatewayApp({
    config,
    issuers: trustedIssuers(config.issuers, DEFAULTS.fetchTimeoutMs),
    usage: createMemoryUsageStore(),
    credential: staticCredential(key),
    logger: jsonLineLogger,
  });
  return app;
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Response | Promise<Response> {
    return appFor(env).fetch(request);
  },
};

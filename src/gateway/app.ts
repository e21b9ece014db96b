/**
 * The gateway as one fetch app (Request → Response, Hono): validate the CI token, spend its budget, forward
 * with the upstream key. The same app runs on Node (node.ts), Bun, Deno and Cloudflare Workers (workers.ts).
 */
import { Hono } from 'hono';
import type { GatewayConfig } from './config.js';
import { CredentialUnavailableError, type CredentialSource } from './credential.js';
import { forward, pathAndQuery } from './forward.js';
import { IssuerUnavailableError } from './keys.js';
import { hashKey, silentGatewayLogger, type GatewayLogger, type RequestLog } from './log.js';
import { GatewayMetrics, type Outcome } from './metrics.js';
import { runtimeFetch, type UpstreamFetch } from './upstreamFetch.js';
import { UsageStoreUnavailableError, type UsageStore } from './usage.js';
import { TokenRejected, tokenFrom, VerifiedTokenCache, verifyToken, type TrustedIssuer, type VerifiedToken } from './verify.js';

export interface GatewayAppDeps {
  config: GatewayConfig;
  issuers: readonly TrustedIssuer[];
  usage: UsageStore;
  credential: CredentialSource;
  logger?: GatewayLogger;
  metrics?: GatewayMetrics;
  /** Epoch-ms clock (tests pass their own). */
  now?: () => number;
  /** How the upstream is called; default the runtime's fetch (the Node host passes node:http). */
  upstreamFetch?: UpstreamFetch;
}

const CORS_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const CORS_BASE_HEADERS = ['authorization', 'content-type', 'x-api-key'];

export function createGatewayApp(deps: GatewayAppDeps): Hono {
  const { config, issuers, usage, credential } = deps;
  const logger = deps.logger ?? silentGatewayLogger;
  const metrics = deps.metrics ?? new GatewayMetrics();
  const now = deps.now ?? Date.now;
  const fetchImpl = deps.upstreamFetch ?? runtimeFetch();
  const verifiedTokens = new VerifiedTokenCache();
  // The budget key's hash, per token text: one digest per token rather than per request.
  const hashes = new Map<string, string>();
  const app = new Hono();

  // CORS_ORIGIN's list, split once rather than per request.
  const allowedOrigins = config.cors?.origin.split(',').map((o) => o.trim());
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (!config.cors) return undefined;
    if (config.cors.origin === '*') return '*';
    return origin && allowedOrigins!.includes(origin) ? origin : undefined;
  };

  const withCors = (request: Request, response: Response): Response => {
    // Without CORS_ORIGIN the gateway takes no part in CORS: the upstream's headers pass as they are.
    if (!config.cors) return response;
    const origin = allowOrigin(request.headers.get('origin') ?? undefined);
    for (const name of [...response.headers.keys()]) {
      if (name.startsWith('access-control-')) response.headers.delete(name);
    }
    if (origin) {
      response.headers.set('access-control-allow-origin', origin);
      if (origin !== '*') response.headers.append('vary', 'Origin');
    }
    return response;
  };

  const json = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  app.get('/healthz', () => json(200, { status: 'ok' }));
  app.get('/metrics', () => new Response(metrics.render(), { headers: { 'content-type': 'text/plain; version=0.0.4' } }));

  app.options('*', (c) => {
    if (!config.cors) return json(404, { error: 'CORS is not enabled' });
    const origin = allowOrigin(c.req.header('origin'));
    if (!origin) return json(403, { error: 'Origin not allowed' });
    const headers = [...CORS_BASE_HEADERS, ...config.cors.extraHeaders.map((h) => h.toLowerCase())];
    return new Response(null, {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': CORS_METHODS,
        'access-control-allow-headers': [...new Set(headers)].join(', '),
        'access-control-max-age': '86400',
        ...(origin === '*' ? {} : { vary: 'Origin' }),
      },
    });
  });

  app.all('*', async (c) => {
    const request = c.req.raw;
    // The path only: a query string may hold what must not reach a log.
    const target = pathAndQuery(request.url);
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    const log: RequestLog = { msg: 'request', outcome: 'ok', status: 200, method: request.method, path };
    const finish = (outcome: Outcome, response: Response, check?: string) => {
      log.outcome = outcome;
      log.status = response.status;
      if (check) log.check = check;
      metrics.request(outcome, check);
      logger(log);
      return withCors(request, response);
    };

    let verified: VerifiedToken;
    try {
      verified = await verifyToken(tokenFrom(request.headers), issuers, Math.floor(now() / 1000), verifiedTokens);
    } catch (error) {
      if (error instanceof TokenRejected) return finish('unauthorized', json(401, { error: error.message, check: error.check }), error.check);
      if (error instanceof IssuerUnavailableError) {
        return finish('issuer_unavailable', json(503, { error: `Token issuer unavailable (${error.what})` }, { 'retry-after': '5' }));
      }
      throw error;
    }

    const { claims, issuer } = verified;
    log.iss = issuer.issuer;
    if (typeof claims.repository === 'string') log.repository = claims.repository;
    if (typeof claims.ref === 'string') log.ref = claims.ref;
    const budgetKey = typeof claims.jti === 'string' && claims.jti
      ? `jti:${issuer.issuer}:${claims.jti}`
      : `sub:${issuer.issuer}:${String(claims.iat)}:${String(claims.sub)}`;
    let hashed = hashes.get(budgetKey);
    if (!hashed) {
      if (hashes.size >= 10_000) hashes.delete(hashes.keys().next().value!);
      hashes.set(budgetKey, (hashed = await hashKey(budgetKey)));
    }
    log.token_id = hashed.slice(0, 16);

    const nowMs = now();
    const lifeEnds = Math.min(Number(claims.exp), Number(claims.iat) + issuer.maxTokenAgeSeconds);
    try {
      const spent = await usage.spend({
        key: hashed.slice(0, 32),
        maxRequests: config.limits.maxRequestsPerToken,
        ratePerSecond: config.limits.rateLimitPerSecond,
        nowMs,
        ttlSeconds: Math.max(1, lifeEnds - Math.floor(nowMs / 1000) + 5),
      });
      if (spent.outcome === 'budget_exhausted') return finish('budget_exhausted', json(429, { error: 'Token budget exhausted' }));
      if (spent.outcome === 'rate_limited') {
        return finish('rate_limited', json(429, { error: 'Rate limit exceeded' }, { 'retry-after': String(spent.retryAfterSeconds) }));
      }
    } catch (error) {
      if (error instanceof UsageStoreUnavailableError) {
        return finish('store_unavailable', json(503, { error: 'Budget store unavailable' }, { 'retry-after': '1' }));
      }
      throw error;
    }

    let key: string;
    try {
      key = await credential.key();
    } catch (error) {
      if (error instanceof CredentialUnavailableError) return finish('credential_unavailable', json(503, { error: 'Upstream credential unavailable' }));
      throw error;
    }

    const started = performance.now();
    try {
      const response = await forward(request, config.upstream, key, fetchImpl, c.env);
      const ms = performance.now() - started;
      metrics.upstreamLatency(ms / 1000);
      log.upstream_ms = Math.round(ms * 10) / 10;
      return finish('ok', response);
    } catch {
      return finish('upstream_error', json(502, { error: 'Upstream unreachable' }));
    }
  });

  return app;
}

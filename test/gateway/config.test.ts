/**
 * Seed 004's env vars with the same meanings and defaults, the config file, and its JSON Schema kept in step
 * with the valibot schema that validates it.
 */
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { DEFAULTS, GATEWAY_CONFIG_JSON_SCHEMA, gatewayFileSchema, loadGatewayConfig } from '../../src/gateway/index.js';

const seedEnv = {
  OIDC_ISSUER: 'https://token.actions.githubusercontent.com',
  OIDC_AUDIENCE: 'goose-oidc-proxy',
  UPSTREAM_URL: 'https://api.anthropic.com',
  UPSTREAM_AUTH_HEADER: 'x-api-key',
  UPSTREAM_API_KEY: 'sk-ant-test',
};

describe('gateway config', () => {
  it('seed 004 defaults: age 1200 s, 200 requests, 2 per second, raw key without prefix', () => {
    const config = loadGatewayConfig(seedEnv);
    expect(config.issuers).toEqual([
      { issuer: seedEnv.OIDC_ISSUER, audience: 'goose-oidc-proxy', maxTokenAgeSeconds: 1200, allowedRepos: undefined, allowedRefs: undefined, claims: {} },
    ]);
    expect(config.limits).toEqual({ maxRequestsPerToken: 200, rateLimitPerSecond: 2 });
    expect(config.upstream).toEqual({ url: seedEnv.UPSTREAM_URL, authHeader: 'x-api-key', authPrefix: '', credential: { kind: 'static', key: 'sk-ant-test' } });
    expect(config.cors).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect({ port: config.port, host: config.host }).toEqual({ port: DEFAULTS.port, host: DEFAULTS.host });
  });

  it('every seed variable plus PORT, HOST, REDIS_URL', () => {
    const config = loadGatewayConfig({
      ...seedEnv,
      MAX_TOKEN_AGE_SECONDS: '600',
      MAX_REQUESTS_PER_TOKEN: '50',
      RATE_LIMIT_PER_SECOND: '5',
      ALLOWED_REPOS: 'octo-org/a, octo-org/b',
      ALLOWED_REFS: 'refs/heads/main',
      UPSTREAM_AUTH_HEADER: 'Authorization',
      UPSTREAM_AUTH_PREFIX: 'Bearer ',
      CORS_ORIGIN: 'https://app.example',
      CORS_EXTRA_HEADERS: 'anthropic-version',
      PORT: '9000',
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(config.issuers[0]).toMatchObject({ maxTokenAgeSeconds: 600, allowedRepos: ['octo-org/a', 'octo-org/b'], allowedRefs: ['refs/heads/main'] });
    expect(config.limits).toEqual({ maxRequestsPerToken: 50, rateLimitPerSecond: 5 });
    expect(config.upstream.authPrefix).toBe('Bearer ');
    expect(config.cors).toEqual({ origin: 'https://app.example', extraHeaders: ['anthropic-version'] });
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('errors name every bad field at once', () => {
    expect(() => loadGatewayConfig({ MAX_REQUESTS_PER_TOKEN: 'lots', OIDC_AUDIENCE: 'a' })).toThrow(
      /OIDC_ISSUER is required when OIDC_AUDIENCE is set.*UPSTREAM_URL is required.*UPSTREAM_AUTH_HEADER is required.*UPSTREAM_API_KEY is required.*MAX_REQUESTS_PER_TOKEN must be an integer/,
    );
    expect(() => loadGatewayConfig({ ...seedEnv, OIDC_ISSUER: 'http://issuer.example' })).toThrow(/must use https/);
    expect(() => loadGatewayConfig({ ...seedEnv, REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must start with redis:\/\//);
  });

  it('the config file adds issuers with rules and an engine credential; env overrides scalars', () => {
    const file = {
      issuers: [{ issuer: 'https://gitlab.example.com', audience: 'gw', claims: { namespace_path: 'team', environment: ['prod', 'staging'] }, maxTokenAgeSeconds: 300 }],
      upstream: { url: 'https://file.example', authHeader: 'authorization', authPrefix: 'Bearer ', engine: { servers: [{ id: 'up' }], provider: 'up' } },
      limits: { maxRequestsPerToken: 7 },
    };
    const { UPSTREAM_API_KEY: _, ...noKey } = seedEnv;
    const config = loadGatewayConfig({ ...noKey, UPSTREAM_URL: undefined, MAX_REQUESTS_PER_TOKEN: '9' } as Record<string, string | undefined>, file);
    expect(config.issuers.map((i) => i.issuer)).toEqual([seedEnv.OIDC_ISSUER, 'https://gitlab.example.com']);
    expect(config.issuers[1]).toMatchObject({ maxTokenAgeSeconds: 300, claims: { namespace_path: ['team'], environment: ['prod', 'staging'] } });
    expect(config.upstream).toMatchObject({ url: 'https://file.example', authHeader: 'x-api-key', credential: { kind: 'engine', provider: 'up' } });
    expect(config.limits.maxRequestsPerToken).toBe(9);
    expect(() => loadGatewayConfig(seedEnv, { upstream: { engine: { servers: [{}], provider: 'up' } } })).toThrow(/not both/);
    expect(() => loadGatewayConfig(seedEnv, { issuers: [{ issuer: 'https://x.example' }] })).toThrow(/config file: issuers\.0\.audience/);
    expect(() => loadGatewayConfig(seedEnv, { limit: {} })).toThrow(/config file/);
  });

  it('the JSON Schema lists exactly the fields valibot accepts, at every level', () => {
    const keysOf = (schema: unknown): string[] => Object.keys((schema as { entries: object }).entries).sort();
    const unwrap = (schema: unknown): unknown => {
      let s = schema as { wrapped?: unknown; item?: unknown; type: string };
      while (s.wrapped) s = s.wrapped as typeof s;
      return s.type === 'array' ? unwrap(s.item) : s;
    };
    const json = GATEWAY_CONFIG_JSON_SCHEMA.properties;
    expect(Object.keys(json).sort()).toEqual(keysOf(gatewayFileSchema));
    for (const name of ['issuers', 'upstream', 'limits', 'cors'] as const) {
      const node = json[name] as { properties?: object; items?: { properties: object } };
      const jsonKeys = Object.keys(node.properties ?? node.items!.properties).sort();
      expect(jsonKeys, name).toEqual(keysOf(unwrap(gatewayFileSchema.entries[name])));
    }
    expect(Object.keys(json.upstream.properties.engine.properties).sort()).toEqual(
      keysOf(unwrap((unwrap(gatewayFileSchema.entries.upstream) as { entries: { engine: unknown } }).entries.engine)),
    );
    expect(v.safeParse(gatewayFileSchema, { $schema: './gateway.schema.json', issuers: [] }).success).toBe(true);
  });
});

/**
 * JSON Schema (draft 2020-12) of the gateway's config file, for editors (`"$schema"`) and for review.
 * valibot (config.ts) is what validates; test/gateway/config.test.ts keeps the two in step on their fields.
 */
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const GATEWAY_CONFIG_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'opencode-oauth-gateway config file',
  description: 'What env vars cannot say: several trusted issuers, claim rules, an upstream credential from the token engine. Env vars override the scalars.',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    issuers: {
      type: 'array',
      description: 'Trusted CI issuers, each with its audience and rules (OIDC_ISSUER/OIDC_AUDIENCE add one more).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer', 'audience'],
        properties: {
          issuer: { type: 'string', format: 'uri', description: 'Exact `iss`; discovery at <issuer>/.well-known/openid-configuration. https, or http on loopback only.' },
          audience: { type: 'string', minLength: 1, description: '`aud` must contain this.' },
          jwksUri: { type: 'string', format: 'uri', description: 'Skip discovery and read the keys here.' },
          maxTokenAgeSeconds: { type: 'integer', minimum: 1, description: 'Reject tokens whose `iat` is older (default MAX_TOKEN_AGE_SECONDS, 1200). `exp` is enforced as well.' },
          allowedRepos: { ...stringList, description: 'Allowed `repository` claims (owner/repo).' },
          allowedRefs: { ...stringList, description: 'Allowed `ref` claims.' },
          claims: {
            type: 'object',
            description: 'Claim rules: the claim must equal the value, or one of the values (e.g. environment, workflow, job_workflow_ref, repository_owner, sub).',
            additionalProperties: { oneOf: [{ type: 'string', minLength: 1 }, { ...stringList, minItems: 1 }] },
          },
        },
      },
    },
    upstream: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', description: 'UPSTREAM_URL' },
        authHeader: { type: 'string', minLength: 1, description: 'UPSTREAM_AUTH_HEADER' },
        authPrefix: { type: 'string', description: 'UPSTREAM_AUTH_PREFIX' },
        engine: {
          type: 'object',
          additionalProperties: false,
          required: ['servers', 'provider'],
          description: 'The upstream key is an access token of our token engine instead of UPSTREAM_API_KEY.',
          properties: {
            servers: { type: 'array', minItems: 1, description: 'Server blocks as in the plugin config `servers[]`.' },
            provider: { type: 'string', minLength: 1, description: 'The server id whose access token is injected.' },
          },
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxRequestsPerToken: { type: 'integer', minimum: 1, description: 'MAX_REQUESTS_PER_TOKEN (default 200)' },
        rateLimitPerSecond: { type: 'integer', minimum: 1, description: 'RATE_LIMIT_PER_SECOND (default 2)' },
      },
    },
    cors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        origin: { type: 'string', minLength: 1, description: 'CORS_ORIGIN: `*` or comma-separated origins' },
        extraHeaders: { ...stringList, description: 'CORS_EXTRA_HEADERS' },
      },
    },
    redisUrl: { type: 'string', format: 'uri', description: 'REDIS_URL: share budgets across instances' },
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'PORT (default 8080)' },
    host: { type: 'string', minLength: 1, description: 'HOST (default 127.0.0.1)' },
  },
} as const;

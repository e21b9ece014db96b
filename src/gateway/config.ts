/**
 * Gateway configuration: seed 004's environment variables (same names, meanings and defaults) plus PORT, HOST,
 * REDIS_URL, and an optional JSON file for what env vars cannot say (several issuers, claim rules, an upstream
 * credential from the token engine). Env vars describe one issuer; the file may list more.
 */
import * as v from 'valibot';

/** Algorithms a CI issuer signs with. Never `none`, never HS* (a shared secret is no public key). */
export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256', 'EdDSA'] as const;

export const DEFAULTS = Object.freeze({
  maxTokenAgeSeconds: 1200,
  maxRequestsPerToken: 200,
  rateLimitPerSecond: 2,
  port: 8080,
  host: '127.0.0.1',
  /** Bound on discovery and JWKS fetches: an outage becomes a 503 after this, never a hang. */
  fetchTimeoutMs: 5000,
  /** Bound on one Redis round trip: past it the request is refused (fail closed). */
  redisTimeoutMs: 1000,
});

const nonEmpty = v.pipe(v.string(), v.trim(), v.nonEmpty());
const url = (what: string) => v.pipe(nonEmpty, v.url(`${what} must be an absolute URL`));
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const stringList = v.array(nonEmpty);

/** A claim rule: the claim (a string, or an array of strings) must equal one of the listed values. */
const claimRules = v.record(nonEmpty, v.union([nonEmpty, v.pipe(stringList, v.minLength(1))]));

const issuerSchema = v.strictObject({
  issuer: url('issuer'),
  audience: nonEmpty,
  /** Where the keys are, when the issuer has no discovery document. */
  jwksUri: v.optional(url('jwksUri')),
  maxTokenAgeSeconds: v.optional(positiveInt),
  allowedRepos: v.optional(stringList),
  allowedRefs: v.optional(stringList),
  claims: v.optional(claimRules),
});

const engineCredentialSchema = v.strictObject({
  /** Server blocks in the token engine's `servers[]` shape. */
  servers: v.pipe(v.array(v.unknown()), v.minLength(1)),
  /** Which server's access token is the upstream key. */
  provider: nonEmpty,
});

/** The JSON config file (`GATEWAY_CONFIG` or `--config`). Every field optional; env vars override scalars. */
export const gatewayFileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  issuers: v.optional(v.array(issuerSchema)),
  upstream: v.optional(
    v.strictObject({
      url: v.optional(url('upstream.url')),
      authHeader: v.optional(nonEmpty),
      authPrefix: v.optional(v.string()),
      engine: v.optional(engineCredentialSchema),
    }),
  ),
  limits: v.optional(
    v.strictObject({
      maxRequestsPerToken: v.optional(positiveInt),
      rateLimitPerSecond: v.optional(positiveInt),
    }),
  ),
  cors: v.optional(v.strictObject({ origin: v.optional(nonEmpty), extraHeaders: v.optional(stringList) })),
  redisUrl: v.optional(url('redisUrl')),
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))),
  host: v.optional(nonEmpty),
});

export type GatewayFileConfig = v.InferOutput<typeof gatewayFileSchema>;

export interface IssuerConfig {
  issuer: string;
  audience: string;
  jwksUri?: string;
  maxTokenAgeSeconds: number;
  allowedRepos?: readonly string[];
  allowedRefs?: readonly string[];
  claims: Readonly<Record<string, readonly string[]>>;
}

export type UpstreamCredential =
  | { kind: 'static'; key: string }
  | { kind: 'engine'; servers: readonly unknown[]; provider: string };

export interface GatewayConfig {
  issuers: readonly IssuerConfig[];
  upstream: { url: string; authHeader: string; authPrefix: string; credential: UpstreamCredential };
  limits: { maxRequestsPerToken: number; rateLimitPerSecond: number };
  cors?: { origin: string; extraHeaders: readonly string[] };
  redisUrl?: string;
  port: number;
  host: string;
}

export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Build the config from env vars and an optional parsed file. Throws GatewayConfigError naming each bad field. */
export function loadGatewayConfig(env: Env, file?: unknown): GatewayConfig {
  const problems: string[] = [];
  const parsedFile = file === undefined ? {} : parseFile(file, problems);
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const int = (name: string, fallback: number, min = 1) => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name} must be an integer ≥ ${min} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const list = (name: string) => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    return items.length > 0 ? items : undefined;
  };

  const maxTokenAgeSeconds = int('MAX_TOKEN_AGE_SECONDS', DEFAULTS.maxTokenAgeSeconds);
  const issuers: IssuerConfig[] = [];
  const envIssuer = read('OIDC_ISSUER');
  const envAudience = read('OIDC_AUDIENCE');
  if (envIssuer !== undefined || envAudience !== undefined) {
    if (envIssuer === undefined) problems.push('OIDC_ISSUER is required when OIDC_AUDIENCE is set');
    else if (!isUrl(envIssuer)) problems.push(`OIDC_ISSUER must be an absolute URL (got "${envIssuer}")`);
    if (envAudience === undefined) problems.push('OIDC_AUDIENCE is required when OIDC_ISSUER is set');
    if (envIssuer !== undefined && envAudience !== undefined) {
      issuers.push({
        issuer: envIssuer,
        audience: envAudience,
        maxTokenAgeSeconds,
        allowedRepos: list('ALLOWED_REPOS'),
        allowedRefs: list('ALLOWED_REFS'),
        claims: {},
      });
    }
  }
  for (const entry of parsedFile.issuers ?? []) {
    issuers.push({
      issuer: entry.issuer,
      audience: entry.audience,
      jwksUri: entry.jwksUri,
      maxTokenAgeSeconds: entry.maxTokenAgeSeconds ?? maxTokenAgeSeconds,
      allowedRepos: entry.allowedRepos,
      allowedRefs: entry.allowedRefs,
      claims: Object.fromEntries(
        Object.entries(entry.claims ?? {}).map(([name, allowed]) => [name, typeof allowed === 'string' ? [allowed] : allowed]),
      ),
    });
  }
  if (issuers.length === 0) problems.push('OIDC_ISSUER and OIDC_AUDIENCE are required (or `issuers` in the config file)');
  for (const { issuer } of issuers) {
    if (isUrl(issuer) && !secureOrLoopback(issuer)) problems.push(`issuer ${issuer} must use https (plain http only on 127.0.0.1/localhost)`);
  }
  const seen = new Set<string>();
  for (const { issuer } of issuers) {
    if (seen.has(issuer)) problems.push(`issuer ${issuer} is listed twice`);
    seen.add(issuer);
  }

  const upstreamUrl = read('UPSTREAM_URL') ?? parsedFile.upstream?.url;
  if (upstreamUrl === undefined) problems.push('UPSTREAM_URL is required');
  else if (!isUrl(upstreamUrl)) problems.push(`UPSTREAM_URL must be an absolute URL (got "${upstreamUrl}")`);
  const authHeader = read('UPSTREAM_AUTH_HEADER') ?? parsedFile.upstream?.authHeader;
  if (authHeader === undefined) problems.push('UPSTREAM_AUTH_HEADER is required (e.g. x-api-key or Authorization)');
  else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(authHeader)) problems.push('UPSTREAM_AUTH_HEADER is not a valid header name');
  // The prefix is kept verbatim ("Bearer " ends in a space), so it is read untrimmed.
  const authPrefix = env.UPSTREAM_AUTH_PREFIX ?? parsedFile.upstream?.authPrefix ?? '';
  const apiKey = env.UPSTREAM_API_KEY;
  const engine = parsedFile.upstream?.engine;
  let credential: UpstreamCredential | undefined;
  if (engine && apiKey) problems.push('give either UPSTREAM_API_KEY or upstream.engine in the config file, not both');
  else if (engine) credential = { kind: 'engine', servers: engine.servers, provider: engine.provider };
  else if (apiKey) credential = { kind: 'static', key: apiKey };
  else problems.push('UPSTREAM_API_KEY is required (or upstream.engine in the config file)');

  const corsOrigin = read('CORS_ORIGIN') ?? parsedFile.cors?.origin;
  const extraHeaders = list('CORS_EXTRA_HEADERS') ?? parsedFile.cors?.extraHeaders ?? [];
  const redisUrl = read('REDIS_URL') ?? parsedFile.redisUrl;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://');

  const config: GatewayConfig = {
    issuers,
    upstream: { url: upstreamUrl ?? '', authHeader: authHeader ?? '', authPrefix, credential: credential ?? { kind: 'static', key: '' } },
    limits: {
      maxRequestsPerToken: int('MAX_REQUESTS_PER_TOKEN', parsedFile.limits?.maxRequestsPerToken ?? DEFAULTS.maxRequestsPerToken),
      rateLimitPerSecond: int('RATE_LIMIT_PER_SECOND', parsedFile.limits?.rateLimitPerSecond ?? DEFAULTS.rateLimitPerSecond),
    },
    ...(corsOrigin ? { cors: { origin: corsOrigin, extraHeaders } } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    port: int('PORT', parsedFile.port ?? DEFAULTS.port, 0),
    host: read('HOST') ?? parsedFile.host ?? DEFAULTS.host,
  };
  if (problems.length > 0) throw new GatewayConfigError(`gateway config: ${problems.join('; ')}`);
  return config;
}

function parseFile(file: unknown, problems: string[]): GatewayFileConfig {
  const result = v.safeParse(gatewayFileSchema, file);
  if (result.success) return result.output;
  for (const issue of result.issues) {
    const where = v.getDotPath(issue) ?? '(root)';
    problems.push(`config file: ${where}: ${issue.message}`);
  }
  return {};
}

function isUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

function secureOrLoopback(value: string): boolean {
  const parsed = new URL(value);
  return parsed.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

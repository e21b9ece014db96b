import { TokenError } from '../../errors.js';
import { isInsecureHttp } from '../plainHttp.js';
import { redactUrl } from '../redact.js';
import { requireEndpointUrl, type HttpEnv } from './env.js';
import { getWithRetry } from './getJson.js';
import { isRetryableStatus } from './retry.js';
import { bodyPreview, mediaType, parseResponseBody } from './responseBody.js';
import type { HttpOptions, MetadataNeed, MetadataOverrides, ServerMetadata, TokenEndpointAdapter } from './types.js';

/** Discovered metadata is reused this long; endpoints rarely move, and a restart re-discovers anyway. */
export const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/**
 * Where an issuer's metadata may live, in the order tried:
 * 1. OpenID Connect Discovery, path appended: `{issuer}/.well-known/openid-configuration`
 *    (Keycloak realms, Google, Auth0, Okta, oidc-provider);
 * 2. RFC 8414, well-known inserted before the path: `{origin}/.well-known/oauth-authorization-server{path}`;
 * 3. RFC 8414 path appended, `{issuer}/.well-known/oauth-authorization-server`, a non-compliant form
 *    some servers use; only when the issuer has a path (otherwise it equals 2).
 * @see OpenID Connect Discovery 1.0 §4; RFC 8414 §3, §5
 */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const urls = [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
  if (path) urls.push(`${url.origin}${path}/.well-known/oauth-authorization-server`);
  return urls;
}

/**
 * Issuers are compared as exact strings, trailing slash included: `https://idp/` and `https://idp` are
 * two issuers, and a mix-up defence that forgives one character forgives an attacker's too.
 * @see RFC 8414 §3.3, RFC 9207 §2.4 (simple string comparison)
 */
export function sameIssuer(a: string, b: string): boolean {
  return a === b;
}

/**
 * Validates a metadata document: `issuer` must equal the configured issuer (exactly, see `sameIssuer`;
 * else a `protocol` error naming both, a mix-up defence), `token_endpoint` must be an absolute URL, and
 * every other endpoint present must be one too. Capability lists are kept when they are string arrays.
 * @see RFC 8414 §2, §3.3; OpenID Connect Discovery 1.0 §4.3
 */
export function processMetadataDocument(providerId: string, issuer: string, url: string, document: Record<string, unknown>): ServerMetadata {
  const invalid = (field: string, rule: string) =>
    new TokenError({
      code: 'protocol',
      providerId,
      message: `discovery document at ${redactUrl(url)}: "${field}" ${rule}`,
      fix: 'configure tokenEndpoint (and the flow endpoints) explicitly, or fix the IdP metadata',
    });
  if (typeof document.issuer !== 'string' || document.issuer.length === 0) throw invalid('issuer', 'must be a non-empty string');
  if (!sameIssuer(document.issuer, issuer)) {
    throw new TokenError({
      code: 'protocol',
      providerId,
      message: `discovery document at ${redactUrl(url)} names issuer ${JSON.stringify(redactUrl(document.issuer))}, but the configured issuer is ${JSON.stringify(redactUrl(issuer))}`,
      fix: 'set issuer to exactly the value the IdP publishes (scheme, host, path), or configure the endpoints explicitly',
    });
  }
  const endpoint = (field: string, required: boolean): string | undefined => {
    const value = document[field];
    if (value === undefined || value === null) {
      if (required) throw invalid(field, 'is missing');
      return undefined;
    }
    let parsed: URL;
    try {
      if (typeof value !== 'string') throw new Error('not a string');
      parsed = new URL(value);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http');
    } catch {
      throw invalid(field, 'must be an absolute http(s) URL');
    }
    // A downgrade by the metadata: plain http off this machine is accepted only from an issuer that is itself
    // plain http, which the config refuses unless allowInsecureHttp is set.
    if (isInsecureHttp(parsed) && !isInsecureHttp(issuer)) {
      throw invalid(field, `is plain http on a non-loopback host (${redactUrl(parsed.href)}): credentials would cross the network unencrypted`);
    }
    return parsed.href;
  };
  const stringList = (field: string): string[] | undefined => {
    const value = document[field];
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  };
  const metadata: ServerMetadata = { issuer: document.issuer, tokenEndpoint: endpoint('token_endpoint', true)! };
  const optional: Array<[keyof ServerMetadata, string]> = [
    ['authorizationEndpoint', 'authorization_endpoint'],
    ['deviceAuthorizationEndpoint', 'device_authorization_endpoint'],
    ['revocationEndpoint', 'revocation_endpoint'],
    ['introspectionEndpoint', 'introspection_endpoint'],
    ['jwksUri', 'jwks_uri'],
  ];
  for (const [key, field] of optional) {
    const value = endpoint(field, false);
    if (value !== undefined) (metadata as unknown as Record<string, unknown>)[key] = value;
  }
  const challengeMethods = stringList('code_challenge_methods_supported');
  if (challengeMethods) metadata.codeChallengeMethodsSupported = challengeMethods;
  const grantTypes = stringList('grant_types_supported');
  if (grantTypes) metadata.grantTypesSupported = grantTypes;
  if (typeof document.authorization_response_iss_parameter_supported === 'boolean') {
    metadata.authorizationResponseIssParameterSupported = document.authorization_response_iss_parameter_supported;
  }
  return metadata;
}

/**
 * Fetches and validates an issuer's metadata, trying the locations of `discoveryUrls` in order. A
 * location that answers 4xx, a redirect, or something that is not a JSON object is skipped; a network
 * failure or a 5xx after retries stops discovery with a `transient` error (an outage must not look like
 * "no metadata"); an issuer mismatch stops it with a `protocol` error. Uncached: see `createMetadataCache`.
 */
export async function discoverMetadata(issuer: string, options: HttpOptions, env: HttpEnv): Promise<ServerMetadata> {
  const issuerUrl = requireEndpointUrl(issuer, 'issuer', options.providerId);
  if (issuerUrl.search) {
    throw new TokenError({
      code: 'config',
      providerId: options.providerId,
      message: '"issuer" must not have a query component',
      fix: 'use the issuer identifier exactly as the IdP publishes it (RFC 8414 §2)',
    });
  }
  const tried: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    const reply = await getWithRetry(url, { ...options, what: 'discovery' }, env);
    if (isRetryableStatus(reply.status)) {
      throw new TokenError({
        code: 'transient',
        providerId: options.providerId,
        status: reply.status,
        message: `discovery ${redactUrl(url)} answered HTTP ${reply.status} (${mediaType(reply.headers)}: ${bodyPreview(reply.headers, reply.bodyText)})`,
        fix: 'the IdP is unavailable; try again later',
      });
    }
    const parsed = reply.status >= 200 && reply.status < 300 && !reply.redirected
      ? parseResponseBody(reply.headers, reply.bodyText)
      : undefined;
    const document = parsed?.kind === 'json' ? parsed.value : undefined;
    if (!document) {
      tried.push(`${redactUrl(url)} → HTTP ${reply.status}${reply.status < 300 ? ` (${mediaType(reply.headers)}, not a JSON object)` : ''}`);
      env.logger.debug('discovery_candidate_skipped', { providerId: options.providerId, url: redactUrl(url), status: reply.status });
      continue;
    }
    const metadata = processMetadataDocument(options.providerId, issuer, url, document);
    env.logger.debug('discovery_succeeded', { providerId: options.providerId, url: redactUrl(url), tokenEndpoint: redactUrl(metadata.tokenEndpoint) });
    return metadata;
  }
  throw new TokenError({
    code: 'config',
    providerId: options.providerId,
    message: `no authorization server metadata found for issuer ${JSON.stringify(redactUrl(issuer))}: ${tried.join('; ')}`,
    fix: 'check the issuer URL, or configure tokenEndpoint (and the flow endpoints) explicitly',
  });
}

/**
 * Discovery with a per-issuer cache (`ttlMs`, default 1 h, on the injected clock) and one in-flight
 * fetch per issuer, so a burst of acquisitions costs one discovery. Failures are not cached.
 */
export function createMetadataCache(env: HttpEnv, ttlMs = DISCOVERY_TTL_MS) {
  const entries = new Map<string, { at: number; metadata: ServerMetadata }>();
  const inFlight = new Map<string, Promise<ServerMetadata>>();
  // Keyed by the issuer string itself: issuers differing by a trailing slash are two issuers (see sameIssuer).
  return {
    async discover(issuer: string, options: HttpOptions): Promise<ServerMetadata> {
      const cached = entries.get(issuer);
      if (cached && env.now() - cached.at < ttlMs) return cached.metadata;
      const pending = inFlight.get(issuer);
      if (pending) return pending;
      const flight = discoverMetadata(issuer, options, env)
        .then((metadata) => {
          entries.set(issuer, { at: env.now(), metadata });
          return metadata;
        })
        .finally(() => inFlight.delete(issuer));
      inFlight.set(issuer, flight);
      return flight;
    },
    forget(issuer?: string): void {
      if (issuer === undefined) entries.clear();
      else entries.delete(issuer);
    },
  };
}

const NEED_FIELDS: Record<MetadataNeed, string> = {
  authorizationEndpoint: 'authorizationEndpoint',
  deviceAuthorizationEndpoint: 'deviceAuthorizationEndpoint',
  revocationEndpoint: 'revocationEndpoint',
};

/**
 * The endpoints a flow will use: explicit configuration wins field by field over discovery, and
 * discovery is skipped entirely when `tokenEndpoint` and every endpoint in `needs` are configured
 * (RFC 8414-only servers and locked-down realms where discovery is unavailable). A needed endpoint that
 * is neither configured nor discovered is a `config` error naming it.
 */
export async function resolveMetadata(
  issuer: string,
  overrides: MetadataOverrides,
  adapter: Pick<TokenEndpointAdapter, 'discover'>,
  options: HttpOptions & { needs?: MetadataNeed[] },
): Promise<ServerMetadata> {
  const { needs = [], ...httpOptions } = options;
  const configured = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as MetadataOverrides;
  if (configured.tokenEndpoint && needs.every((need) => configured[need])) {
    return { issuer, ...configured, tokenEndpoint: configured.tokenEndpoint };
  }
  const discovered = await adapter.discover(issuer, httpOptions);
  const merged: ServerMetadata = { ...discovered, ...configured, tokenEndpoint: configured.tokenEndpoint ?? discovered.tokenEndpoint };
  for (const need of needs) {
    if (!merged[need]) {
      throw new TokenError({
        code: 'config',
        providerId: options.providerId,
        message: `"${NEED_FIELDS[need]}" is neither configured nor published by issuer ${JSON.stringify(redactUrl(issuer))}`,
        fix: `set ${NEED_FIELDS[need]} in the provider configuration, or enable the grant at the IdP`,
      });
    }
  }
  return merged;
}

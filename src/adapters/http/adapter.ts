import { requestDeviceAuthorization, devicePollOutcome } from './deviceAuthorization.js';
import { createMetadataCache } from './discovery.js';
import { resolveHttpEnv } from './env.js';
import { getJson } from './getJson.js';
import { revokeToken } from './revocation.js';
import { requestToken } from './tokenEndpoint.js';
import type { HttpDeps, HttpTokenEndpointAdapter } from './types.js';

/**
 * The ky-based TokenEndpointAdapter. One instance per engine: it holds the ky instance and the
 * discovery cache. Every effect it depends on (sleep, randomness, clock, fetch, logger) can be injected,
 * so tests script retries and expiry instead of waiting for them.
 */
export function createTokenEndpointAdapter(deps: HttpDeps = {}): HttpTokenEndpointAdapter {
  const env = resolveHttpEnv(deps);
  const metadata = createMetadataCache(env, deps.discoveryTtlMs);
  return {
    discover: (issuer, options) => metadata.discover(issuer, options),
    requestToken: (request) => requestToken(request, env),
    requestDeviceAuthorization: (request) => requestDeviceAuthorization(request, env),
    revoke: (request) => revokeToken(request, env),
    getJson: (url, options) => getJson(url, options, env),
    pollDeviceToken: (request) => devicePollOutcome(requestToken(request, env)),
    forgetMetadata: (issuer) => metadata.forget(issuer),
  };
}

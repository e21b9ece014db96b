// @ts-check
/**
 * A JWT issuer the lab trusts (the CI issuer): its keys come from `jwks_uri`, found by OIDC discovery
 * unless given, and cached by jose's remote JWK set.
 * @module
 */
import * as jose from 'jose';

/**
 * @typedef {string | { issuer: string, jwksUri?: string }} IssuerSource a URL, or an object like a CiIssuer
 */

/**
 * @param {IssuerSource} source
 * @returns {{ issuer: string, keys: () => Promise<ReturnType<typeof jose.createRemoteJWKSet>> }}
 */
export function trustedIssuer(source) {
  const issuer = typeof source === 'string' ? source.replace(/\/$/, '') : source.issuer;
  const jwksUri = typeof source === 'string' ? undefined : source.jwksUri;
  /** @type {Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined} */
  let keySet;
  return {
    issuer,
    keys() {
      keySet ??= (async () => {
        let uri = jwksUri;
        if (!uri) {
          const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
          uri = /** @type {{ jwks_uri: string }} */ (await res.json()).jwks_uri;
        }
        return jose.createRemoteJWKSet(new URL(uri));
      })();
      // A failed discovery is retried on the next use instead of being cached.
      keySet.catch(() => { keySet = undefined; });
      return keySet;
    },
  };
}

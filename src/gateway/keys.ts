/**
 * Signing keys of the trusted issuers: discovery (`<issuer>/.well-known/openid-configuration`) finds the JWKS,
 * jose's remote key set caches it and refetches for an unknown `kid` at most once per cooldown.
 */
import * as jose from 'jose';

/** An outage of the issuer's discovery or JWKS endpoint: the gateway answers 503, never 200, never a hang. */
export class IssuerUnavailableError extends Error {
  override name = 'IssuerUnavailableError';
  constructor(readonly issuer: string, readonly what: 'discovery' | 'jwks') {
    super(`${what} of ${issuer} unavailable`);
  }
}

export interface IssuerKeys {
  readonly issuer: string;
  /** The key for this protected header; undefined when the key set has no such `kid` (after one refetch). */
  keyFor(header: jose.JWSHeaderParameters, token: string): Promise<jose.CryptoKey | Uint8Array | undefined>;
}

export interface IssuerKeysOptions {
  issuer: string;
  jwksUri?: string;
  timeoutMs: number;
  /** An unknown `kid` refetches the JWKS at most this often (the 30 s). */
  cooldownMs?: number;
}

export function issuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const { issuer, timeoutMs } = options;
  let keySet: ReturnType<typeof jose.createRemoteJWKSet> | undefined;
  let discovering: Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined;

  async function resolveKeySet() {
    if (keySet) return keySet;
    // A failed discovery is retried by the next request; concurrent requests share one attempt.
    discovering ??= discoverJwksUri(issuer, options.jwksUri, timeoutMs)
      .then((jwksUri) => {
        keySet = jose.createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: timeoutMs,
          cooldownDuration: options.cooldownMs ?? 30_000,
          cacheMaxAge: 10 * 60_000,
        });
        return keySet;
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  }

  return {
    issuer,
    async keyFor(header, token) {
      const keys = await resolveKeySet();
      try {
        return await keys(header, { payload: '', signature: '', protected: token.split('.')[0] ?? '' });
      } catch (error) {
        if (error instanceof jose.errors.JWKSNoMatchingKey || error instanceof jose.errors.JWKSMultipleMatchingKeys) {
          return undefined;
        }
        throw new IssuerUnavailableError(issuer, 'jwks');
      }
    },
  };
}

async function discoverJwksUri(issuer: string, configured: string | undefined, timeoutMs: number): Promise<string> {
  if (configured) return configured;
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // A discovery document for another issuer would let that issuer's keys vouch for this one.
    if (doc.issuer !== issuer || typeof doc.jwks_uri !== 'string' || !URL.canParse(doc.jwks_uri)) throw new Error('bad document');
    return doc.jwks_uri;
  } catch {
    throw new IssuerUnavailableError(issuer, 'discovery');
  }
}

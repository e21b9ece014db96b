/**
 * Signing keys of the trusted issuers: discovery (`<issuer>/.well-known/openid-configuration`) finds the JWKS,
 * cached for 10 min; an unknown `kid` refetches it at most once per cooldown.
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
  unknownKidCooldownMs?: number;
  /** A key set older than this is fetched again before use (keys retire too). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Unlike jose's remote set, whose cooldown starts at every fetch, the cooldown here starts at the last
 * refetch caused by an unknown `kid`: a key rotated in right after a routine fetch is still found at once.
 */
export function issuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const { issuer, timeoutMs } = options;
  const now = options.now ?? Date.now;
  const cooldownMs = options.unknownKidCooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  let jwksUri: string | undefined = options.jwksUri;
  let cached: { keys: ReturnType<typeof jose.createLocalJWKSet>; at: number } | undefined;
  let inflight: Promise<NonNullable<typeof cached>> | undefined;
  let lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;

  // Concurrent requests share one fetch; a failure is retried by the next request.
  function refresh() {
    inflight ??= (async () => {
      jwksUri ??= await discoverJwksUri(issuer, timeoutMs);
      const set = await fetchJwks(issuer, jwksUri, timeoutMs);
      cached = { keys: jose.createLocalJWKSet(set), at: now() };
      return cached;
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function lookup(set: NonNullable<typeof cached>, header: jose.JWSHeaderParameters, token: string) {
    try {
      return await set.keys(header, { payload: '', signature: '', protected: token.split('.')[0] ?? '' });
    } catch (error) {
      if (error instanceof jose.errors.JWKSNoMatchingKey || error instanceof jose.errors.JWKSMultipleMatchingKeys) return undefined;
      throw error;
    }
  }

  return {
    issuer,
    async keyFor(header, token) {
      const set = cached && now() - cached.at < maxAgeMs ? cached : await refresh();
      const key = await lookup(set, header, token);
      if (key || now() - lastUnknownKidRefetch < cooldownMs) return key;
      lastUnknownKidRefetch = now();
      return lookup(await refresh(), header, token);
    },
  };
}

async function fetchJwks(issuer: string, jwksUri: string, timeoutMs: number): Promise<jose.JSONWebKeySet> {
  try {
    const res = await fetch(jwksUri, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const set = (await res.json()) as jose.JSONWebKeySet;
    if (!set || !Array.isArray(set.keys)) throw new Error('not a JWKS');
    return set;
  } catch {
    throw new IssuerUnavailableError(issuer, 'jwks');
  }
}

async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
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

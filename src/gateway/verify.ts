/**
 * CI token validation, in an order that matters: the signature is checked before any claim is read, so an
 * unsigned or forged token learns nothing about the rules. Each failure names its check.
 */
import * as jose from 'jose';
import { ALLOWED_ALGS, type IssuerConfig } from './config.js';
import { issuerKeys, IssuerUnavailableError, type IssuerKeys } from './keys.js';

/** The check that failed; the 401 body is `{"error": message, "check": check}`. */
export type Check =
  | 'token_missing'
  | 'token_malformed'
  | 'alg'
  | 'kid'
  | 'signature'
  | 'iss'
  | 'aud'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'max_age'
  | 'repository'
  | 'ref'
  | `claim:${string}`;

export class TokenRejected extends Error {
  override name = 'TokenRejected';
  constructor(readonly check: Check, message: string) {
    super(message);
  }
}

export interface VerifiedToken {
  claims: jose.JWTPayload & Record<string, unknown>;
  issuer: IssuerConfig;
}

export interface TrustedIssuer {
  config: IssuerConfig;
  keys: IssuerKeys;
}

/** Each configured issuer with its key set (discovery, or its `jwksUri`), fetches bounded by `timeoutMs`. */
export function trustedIssuers(configs: readonly IssuerConfig[], timeoutMs: number): TrustedIssuer[] {
  return configs.map((config) => ({ config, keys: issuerKeys({ issuer: config.issuer, jwksUri: config.jwksUri, timeoutMs }) }));
}

const allowedAlgs: ReadonlySet<string> = new Set(ALLOWED_ALGS);

/** `x-api-key: <jwt>` (Anthropic-style clients) or `Authorization: Bearer <jwt>` (OpenAI-style). */
export function tokenFrom(headers: Headers): string | undefined {
  const apiKey = headers.get('x-api-key')?.trim();
  if (apiKey) return apiKey;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  return match?.[1];
}

/**
 * Tokens whose signature was verified, by their exact text: a CI token is sent for many requests, and its
 * signature check is the costliest step. The claim checks (time, audience, rules) still run on every request.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { claims: VerifiedToken['claims']; trusted: TrustedIssuer }>();
  constructor(private readonly maxEntries = 10_000) {}

  get(token: string) {
    return this.entries.get(token);
  }

  set(token: string, claims: VerifiedToken['claims'], trusted: TrustedIssuer) {
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, trusted });
  }

  delete(token: string) {
    this.entries.delete(token);
  }
}

export async function verifyToken(
  token: string | undefined,
  issuers: readonly TrustedIssuer[],
  nowSeconds: number,
  cache?: VerifiedTokenCache,
): Promise<VerifiedToken> {
  const hit = token ? cache?.get(token) : undefined;
  if (token && hit) {
    try {
      return checkClaims(hit.claims, hit.trusted.config, nowSeconds);
    } catch (error) {
      // An expired token will never pass again: it leaves the cache.
      if (error instanceof TokenRejected && (error.check === 'exp' || error.check === 'max_age')) cache?.delete(token);
      throw error;
    }
  }
  if (!token) throw new TokenRejected('token_missing', 'Missing token (x-api-key or Authorization: Bearer)');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0]) {
    throw new TokenRejected('token_malformed', 'Malformed token: not a JWT (three base64url parts)');
  }
  let header: jose.ProtectedHeaderParameters;
  try {
    header = jose.decodeProtectedHeader(token);
  } catch {
    throw new TokenRejected('token_malformed', 'Malformed token: unreadable header');
  }
  if (typeof header.alg !== 'string' || !allowedAlgs.has(header.alg)) {
    throw new TokenRejected('alg', `Token algorithm not allowed: ${String(header.alg).slice(0, 16)}`);
  }
  if (!parts[2]) throw new TokenRejected('token_malformed', 'Malformed token: no signature');

  // The key decides the issuer: each trusted issuer's key set is asked for this kid, claims stay unread.
  let outage: IssuerUnavailableError | undefined;
  for (const trusted of issuers) {
    let key;
    try {
      key = await trusted.keys.keyFor(header, token);
    } catch (error) {
      if (error instanceof IssuerUnavailableError) {
        outage ??= error;
        continue;
      }
      throw error;
    }
    if (!key) continue;
    let payload: Uint8Array;
    try {
      ({ payload } = await jose.compactVerify(token, key, { algorithms: [header.alg] }));
    } catch {
      throw new TokenRejected('signature', 'Token signature invalid');
    }
    const claims = parseClaims(payload);
    const verified = checkClaims(claims, trusted.config, nowSeconds);
    cache?.set(token, claims, trusted);
    return verified;
  }
  if (outage) throw outage;
  throw new TokenRejected('kid', 'Token signing key not found at any trusted issuer');
}

function parseClaims(payload: Uint8Array): VerifiedToken['claims'] {
  try {
    const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    if (claims && typeof claims === 'object' && !Array.isArray(claims)) return claims as VerifiedToken['claims'];
  } catch {
    // fall through
  }
  throw new TokenRejected('token_malformed', 'Malformed token: claims are not a JSON object');
}

function checkClaims(claims: VerifiedToken['claims'], issuer: IssuerConfig, now: number): VerifiedToken {
  if (claims.iss !== issuer.issuer) throw new TokenRejected('iss', 'Token issuer not trusted');
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.includes(issuer.audience)) throw new TokenRejected('aud', 'Token audience not accepted');
  // exp is always enforced; the max age below only shortens a token's life, never extends it (goose #8832).
  if (typeof claims.exp !== 'number') throw new TokenRejected('exp', 'Token has no expiry');
  if (claims.exp <= now) throw new TokenRejected('exp', 'Token expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) {
    throw new TokenRejected('nbf', 'Token not yet valid');
  }
  if (typeof claims.iat !== 'number' || claims.iat > now) throw new TokenRejected('iat', 'Token issued-at missing or in the future');
  if (now - claims.iat > issuer.maxTokenAgeSeconds) throw new TokenRejected('max_age', 'Token too old');
  if (issuer.allowedRepos && !issuer.allowedRepos.includes(String(claims.repository))) {
    throw new TokenRejected('repository', 'Repository not allowed');
  }
  if (issuer.allowedRefs && !issuer.allowedRefs.includes(String(claims.ref))) {
    throw new TokenRejected('ref', 'Ref not allowed');
  }
  for (const [name, allowed] of Object.entries(issuer.claims)) {
    const value = claims[name];
    const values = Array.isArray(value) ? value : [value];
    if (!values.some((item) => typeof item === 'string' && allowed.includes(item))) {
      throw new TokenRejected(`claim:${name}`, `Claim ${name} not allowed`);
    }
  }
  return { claims, issuer };
}

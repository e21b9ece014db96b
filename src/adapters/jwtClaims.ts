/**
 * The claims of a compact JWS, read WITHOUT verifying anything: for scheduling and replay checks only (the
 * IdP or gateway verifies the token). Kept here rather than taken from jose so that reading an `exp` does
 * not load jose's ~25 ms of modules at start; jose is loaded only to sign client assertions.
 * Throws on anything that is not three dot-separated parts with a JSON-object payload.
 */
export function readJwtClaims(token: string): Record<string, unknown> {
  if (typeof token !== 'string') throw new TypeError('a JWT must be a string');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TypeError('a JWT has three parts');
  const payload = parts[1]!;
  if (!BASE64URL.test(payload)) throw new TypeError('a JWT payload is base64url');
  const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new TypeError('a JWT payload is a JSON object');
  return claims as Record<string, unknown>;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

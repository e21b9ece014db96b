import { readJwtClaims } from '../jwtClaims.js';

/**
 * What this machine's clock is off from each authorization server's, learnt from the `Date` header of
 * every answer (RFC 9110 §6.6.1: one-second resolution). Relative lifetimes (`expires_in`) need no
 * correction; what does is anything judged in the server's clock: the `iat`/`exp` of the client
 * assertions we sign, and a JWT access token's own `exp`.
 */
export interface ServerClock {
  /** Records one answer: its `Date` header against our clock when it arrived. */
  observe(url: string, dateHeader: string | null, localNow: number): void;
  /** Server time minus ours, ms; 0 until an answer with a `Date` header came. */
  offsetFor(url: string): number;
  /** Whether any answer from this server carried a usable `Date`. */
  knows(url: string): boolean;
}

/** Below this the difference is the header's own rounding and the network, not skew. */
export const SKEW_NOISE_MS = 2_000;

export function createServerClock(): ServerClock {
  const offsets = new Map<string, number>();
  const keyOf = (url: string) => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  return {
    observe(url, dateHeader, localNow) {
      if (!dateHeader) return;
      const serverNow = Date.parse(dateHeader);
      if (Number.isNaN(serverNow)) return;
      // The header is truncated to the second: its true value is up to 1 s later.
      const offset = serverNow + 500 - localNow;
      offsets.set(keyOf(url), Math.abs(offset) < SKEW_NOISE_MS ? 0 : offset);
    },
    offsetFor: (url) => offsets.get(keyOf(url)) ?? 0,
    knows: (url) => offsets.has(keyOf(url)),
  };
}

/**
 * The `exp` of a JWT access token in OUR clock (its own `exp` minus the server's offset), or undefined
 * for opaque tokens. Without a learnt offset, the token's `iat` against the request start stands in for it.
 */
export function jwtExpiryInLocalClock(accessToken: string, offsetMs: number | undefined, requestStart: number): number | undefined {
  let claims: { exp?: unknown; iat?: unknown };
  try {
    claims = readJwtClaims(accessToken);
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return undefined;
  let offset = offsetMs;
  if (offset === undefined) {
    if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) return undefined;
    const fromIat = claims.iat * 1000 - requestStart;
    offset = Math.abs(fromIat) < SKEW_NOISE_MS ? 0 : fromIat;
  }
  return claims.exp * 1000 - offset;
}

import { readJwtClaims } from '../jwtClaims.js';

/**
 * The `exp` of a JWT as epoch ms, read WITHOUT verifying the signature: used for scheduling only (when
 * to re-fetch, how long a derived token may live); the IdP or gateway verifies the token itself.
 * Opaque tokens and JWTs without a numeric `exp` give undefined.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export function readJwtExpiry(token: string): number | undefined {
  try {
    const { exp } = readJwtClaims(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

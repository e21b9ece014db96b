import { readJwtClaims } from '../jwtClaims.js';
import { GRANT_TYPES } from './oauthErrors.js';

/**
 * Which token requests must never be re-sent once they may have reached the server, and what a lost
 * answer would have spent. A re-sent authorization code is a reused code (RFC 6749 §4.1.2: the server
 * SHOULD revoke what it issued for it), a re-sent refresh token a replay under rotation, a re-sent
 * device-code poll a second use of an approved code, and a re-sent assertion with a `jti` a replay the
 * server refuses (RFC 7523 §3). Each of them costs the session; one lost answer costs at most a login.
 * @see anchors-lifecycle.md C3
 */
export function oneShotCredential(grantType: string, params: Record<string, string | readonly string[] | undefined>, clientAssertion?: string): string | undefined {
  switch (grantType) {
    case GRANT_TYPES.refreshToken:
      return 'the refresh token';
    case GRANT_TYPES.authorizationCode:
      return 'the authorization code';
    case GRANT_TYPES.deviceCode:
      return 'the device code';
  }
  for (const name of ['assertion', 'subject_token', 'actor_token']) {
    const value = params[name];
    if (typeof value === 'string' && hasJti(value)) return `the ${name.replace('_', ' ')}`;
  }
  if (clientAssertion !== undefined && hasJti(clientAssertion)) return 'the client assertion';
  return undefined;
}

/** True for a JWT carrying a `jti` (read without verifying: the server checks it, we only avoid replaying it). */
export function hasJti(token: string): boolean {
  try {
    const { jti } = readJwtClaims(token);
    return typeof jti === 'string' && jti.length > 0;
  } catch {
    return false;
  }
}

/**
 * What a request to the loopback redirect URI means for the pending login. Pure: the loopback adapter
 * uses it to pick the page it shows, the authorizationCode machine routes on the same result.
 */

export interface CallbackExpectation {
  /** The callback path, e.g. `/oauth2/callback`. */
  path: string;
  /** The `state` sent in the authorization request. */
  state: string;
  /** The issuer the authorization request went to (RFC 9207 `iss`). */
  issuer?: string;
  /** The server advertises `authorization_response_iss_parameter_supported`: `iss` must be present. */
  issuerRequired?: boolean;
}

export type StrayReason = 'wrong_path' | 'not_an_authorization_response' | 'state_mismatch';

export type CallbackResult =
  /** Not ours (favicon, prefetch, an old tab, a forged request): answer it and keep waiting. */
  | { kind: 'stray'; reason: StrayReason }
  | { kind: 'code'; code: string; iss?: string }
  /** The IdP refused (user cancelled, consent denied, ...): the login ends, naming the IdP's error. */
  | { kind: 'idp_error'; error: string; errorDescription?: string }
  /** RFC 9207 mix-up defence: the response came back through another issuer. */
  | { kind: 'issuer_mismatch'; received?: string };

/** Comparison whose time does not depend on where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** Issuer identifiers compare as exact strings (RFC 9207 §2.4); only a trailing slash is forgiven. */
/** Exact string comparison (RFC 9207 §2.4): the expected value is the issuer discovery returned. */
function sameIssuer(a: string, b: string): boolean {
  return a === b;
}

/**
 * Classify one request made to the loopback server.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 (response, `state`)
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 (error response)
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4 (`iss` validation)
 */
export function classifyCallback(url: URL, expected: CallbackExpectation): CallbackResult {
  if (url.pathname !== expected.path) return { kind: 'stray', reason: 'wrong_path' };
  const q = url.searchParams;
  const code = q.get('code');
  const error = q.get('error');
  const state = q.get('state');
  if (!code && !error) return { kind: 'stray', reason: 'not_an_authorization_response' };
  // Without the right state anybody on this machine could end or hijack the login: ignore, keep waiting.
  if (state === null || !sameSecret(state, expected.state)) return { kind: 'stray', reason: 'state_mismatch' };
  const iss = q.get('iss') ?? undefined;
  if (expected.issuer !== undefined) {
    if (iss === undefined ? expected.issuerRequired : !sameIssuer(iss, expected.issuer)) {
      return iss === undefined ? { kind: 'issuer_mismatch' } : { kind: 'issuer_mismatch', received: iss };
    }
  }
  if (error) {
    const description = q.get('error_description') ?? undefined;
    return description === undefined ? { kind: 'idp_error', error } : { kind: 'idp_error', error, errorDescription: description };
  }
  return iss === undefined ? { kind: 'code', code: code! } : { kind: 'code', code: code!, iss };
}

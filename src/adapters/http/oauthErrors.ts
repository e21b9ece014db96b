import { TokenError, type TokenErrorCode } from '../../errors.js';
import { redactUrl } from '../redact.js';
import type { HttpReply } from './client.js';
import { isRetryableStatus, parseRetryAfter } from './retry.js';
import { bodyMembers, bodyPreview, mediaType, parseResponseBody, safeDescription, safeOAuthError } from './responseBody.js';

/** Grant type URNs, and the words used for them in messages. */
export const GRANT_TYPES = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  clientCredentials: 'client_credentials',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
} as const;

export function grantLabel(grantType: string | undefined): string {
  switch (grantType) {
    case GRANT_TYPES.deviceCode:
      return 'device_code';
    case GRANT_TYPES.jwtBearer:
      return 'jwt_bearer';
    case GRANT_TYPES.tokenExchange:
      return 'token_exchange';
    case undefined:
      return 'token';
    default:
      return /^[\w:.-]{1,80}$/.test(grantType) ? grantType : 'token';
  }
}

/** The OAuth `error` values we act on, mapped onto the engine's taxonomy. Unknown ones become `protocol`. */
const OAUTH_ERROR_CODES: Record<string, TokenErrorCode> = {
  invalid_grant: 'invalid_grant',
  invalid_client: 'invalid_client',
  unauthorized_client: 'unauthorized_client',
  unsupported_grant_type: 'unsupported_grant_type',
  invalid_scope: 'invalid_scope',
  invalid_request: 'invalid_request',
  // RFC 8707 §2 / RFC 8693 §2.2.2: the audience or resource is not acceptable.
  invalid_target: 'invalid_request',
  // RFC 7009 §2.2.1
  unsupported_token_type: 'invalid_request',
  access_denied: 'access_denied',
  expired_token: 'expired_token',
  // RFC 8628 §3.5: both mean "poll again later"; `oauthError` tells the device loop which.
  authorization_pending: 'transient',
  slow_down: 'transient',
  server_error: 'transient',
  temporarily_unavailable: 'transient',
  interaction_required: 'interaction_required',
  login_required: 'interaction_required',
  consent_required: 'interaction_required',
};

export function oauthErrorCode(error: string): TokenErrorCode {
  return OAUTH_ERROR_CODES[error] ?? 'protocol';
}

/** A fix a user can act on, for the errors that have a usual cause. */
export function fixFor(error: string, grantType: string | undefined, clientAuthMethod?: string): string | undefined {
  const grant = grantLabel(grantType);
  switch (error) {
    case 'invalid_client':
      return clientAuthMethod === 'private_key_jwt'
        ? "check clientId, the public key registered for the client (JWKS) and the client's token_endpoint_auth_method"
        : "check clientId/clientSecret and the client's token_endpoint_auth_method";
    case 'unsupported_grant_type':
      if (grantType === GRANT_TYPES.tokenExchange) return 'enable token exchange for this client at the IdP (Keycloak: "Standard token exchange" on a confidential client)';
      if (grantType === GRANT_TYPES.jwtBearer) return 'enable the JWT bearer grant (RFC 7523) for this client at the IdP';
      if (grantType === GRANT_TYPES.deviceCode) return 'enable the device authorization grant for this client at the IdP';
      if (grantType === GRANT_TYPES.clientCredentials) return 'enable client credentials (service accounts) for this client at the IdP';
      return `enable the ${grant} grant for this client at the IdP`;
    case 'unauthorized_client':
      return grantType === GRANT_TYPES.tokenExchange
        ? 'allow this client to exchange tokens at the IdP (public clients cannot; the subject token must be issued for or trusted by this client)'
        : `allow the ${grant} grant for this client at the IdP`;
    case 'invalid_grant':
      switch (grantType) {
        case GRANT_TYPES.refreshToken:
          return 'the refresh token was revoked, expired or already used: sign in again';
        case GRANT_TYPES.authorizationCode:
          return 'the code expired or was already used, or redirect_uri/code_verifier did not match: sign in again';
        case GRANT_TYPES.jwtBearer:
        case GRANT_TYPES.tokenExchange:
          return "the IdP refused the subject token: check that its issuer is trusted by the IdP, its audience, and that it has not expired";
        case GRANT_TYPES.deviceCode:
          return 'the device code is no longer valid: start the login again';
        default:
          return 'check the grant parameters and the client configuration at the IdP';
      }
    case 'invalid_scope':
      return 'check that the configured scopes exist and are allowed for this client';
    case 'invalid_target':
      return 'check the configured audience/resource: the IdP does not accept it for this client';
    case 'invalid_request':
      return 'check the configured parameters against what the IdP expects (see the description)';
    case 'access_denied':
      return 'the request was denied: start the login again and approve it';
    case 'expired_token':
      return 'the device code expired before it was approved: start the login again';
    case 'server_error':
    case 'temporarily_unavailable':
      return 'the IdP reported a temporary failure: try again later';
    case 'interaction_required':
    case 'login_required':
    case 'consent_required':
      return 'sign in interactively';
    default:
      return undefined;
  }
}

export interface ErrorContext {
  providerId: string;
  /** "token endpoint", "device authorization endpoint", "revocation endpoint"… */
  what: string;
  url: string;
  grantType?: string;
  clientAuthMethod?: string;
  /** The request's own secret values, scrubbed from anything the server echoes. */
  knownSecrets?: readonly string[];
}

/**
 * The TokenError for a reply that is not a success. With an OAuth `error` member (JSON or form, any
 * status — GitHub answers errors with 200) the error is classified; without one the status decides:
 * retryable statuses are `transient`, 401 is `invalid_client`, 404/405 a `config` error, the rest
 * `protocol`. Messages carry the status, a scrubbed `error_description`, or a short scrubbed preview of a
 * non-OAuth body (an HTML page's title, not its markup) — never the body itself.
 * @see RFC 6749 §5.2
 */
export function errorFromReply(reply: HttpReply, context: ErrorContext, now: number): TokenError {
  const where = `${context.what} ${redactUrl(context.url)}`;
  const status = reply.status;
  const retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'), now);
  if (reply.redirected) {
    const location = reply.headers.get('location');
    return new TokenError({
      code: 'protocol',
      providerId: context.providerId,
      status,
      message: `${where} answered a redirect (HTTP ${status}${location ? ` to ${redactUrl(location)}` : ''}); redirects are never followed`,
      fix: 'configure the final endpoint URL (check http vs https, the host, and a trailing slash)',
    });
  }
  const parsed = parseResponseBody(reply.headers, reply.bodyText);
  const members = bodyMembers(parsed);
  const known = context.knownSecrets ?? [];
  const oauthError = members ? safeOAuthError(members.error, known) : undefined;
  if (oauthError) {
    const description = safeDescription(members?.error_description, 200, known);
    const intervalSec = Number(members?.interval);
    const serverRetry = oauthError === 'slow_down' && Number.isFinite(intervalSec) && intervalSec > 0 ? intervalSec * 1000 : retryAfterMs;
    return new TokenError({
      code: oauthErrorCode(oauthError),
      providerId: context.providerId,
      status,
      oauthError,
      ...(serverRetry !== undefined ? { retryAfterMs: serverRetry } : {}),
      message: `${where} refused the ${grantLabel(context.grantType)} request: ${oauthError}${description ? ` (${description})` : ''} (HTTP ${status})`,
      fix: fixFor(oauthError, context.grantType, context.clientAuthMethod),
    });
  }
  const preview = `${mediaType(reply.headers)}: ${bodyPreview(reply.headers, reply.bodyText, 120, known)}`;
  if (isRetryableStatus(status)) {
    return new TokenError({
      code: 'transient',
      providerId: context.providerId,
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      message: `${where} answered HTTP ${status} (${preview})`,
      fix: 'the IdP or a proxy in front of it is unavailable; try again later',
    });
  }
  if (status === 401) {
    return new TokenError({
      code: 'invalid_client',
      providerId: context.providerId,
      status,
      message: `${where} answered HTTP 401 without an OAuth error (${preview})`,
      fix: fixFor('invalid_client', context.grantType, context.clientAuthMethod),
    });
  }
  if (status === 404 || status === 405) {
    return new TokenError({
      code: 'config',
      providerId: context.providerId,
      status,
      message: `${where} answered HTTP ${status} (${preview})`,
      fix: `check the configured ${context.what} URL`,
    });
  }
  return new TokenError({
    code: 'protocol',
    providerId: context.providerId,
    status,
    message: `${where} answered HTTP ${status} without an OAuth error (${preview})`,
    fix: 'a proxy or gateway may be answering instead of the IdP; check the URL and the network path',
  });
}

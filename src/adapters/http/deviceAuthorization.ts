import { TokenError } from '../../errors.js';
import { redactUrl } from '../redact.js';
import { postClientForm } from './clientFormPost.js';
import { requireEndpointUrl, type HttpEnv } from './env.js';
import { errorFromReply, GRANT_TYPES } from './oauthErrors.js';
import { requestSecrets } from './requestSecrets.js';
import { bodyMembers, bodyPreview, mediaType, parseResponseBody } from './responseBody.js';
import { positiveSeconds } from './tokenEndpoint.js';
import type { AudienceHints, ClientAuth, DeviceAuthorization, DevicePollOutcome, HttpOptions, TokenRequest } from './types.js';
import type { TokenSet } from '../../machines/token.js';

export type DeviceAuthorizationRequest = HttpOptions & AudienceHints & {
  endpoint: string;
  clientAuth: ClientAuth;
  params: Record<string, string | readonly string[] | undefined>;
};

/**
 * Starts a device authorization. Safe to retry (each attempt just issues another code), so it uses the
 * ordinary retry layer.
 * @see RFC 8628 §3.1, §3.2
 */
export async function requestDeviceAuthorization(request: DeviceAuthorizationRequest, env: HttpEnv): Promise<DeviceAuthorization> {
  const url = requireEndpointUrl(request.endpoint, 'deviceAuthorizationEndpoint', request.providerId).href;
  const knownSecrets = requestSecrets(request.clientAuth, request.params);
  const reply = await postClientForm({ ...request, url, what: 'device authorization endpoint', knownSecrets }, env);
  return processDeviceAuthorizationResponse(request.providerId, reply.status, reply.headers, reply.bodyText, {
    url,
    clientAuthMethod: request.clientAuth.method,
    now: env.now(),
    knownSecrets,
  });
}

/**
 * Validates a device authorization reply: `device_code`, `user_code`, `verification_uri` (or Google's
 * older `verification_url`) non-empty strings; `expires_in` a positive number (or numeric string);
 * `interval` rounded up (a server minimum must never be undercut), undefined when missing or unusable.
 * @see RFC 8628 §3.2
 */
export function processDeviceAuthorizationResponse(
  providerId: string,
  status: number,
  headers: Headers,
  bodyText: string,
  options: { url?: string; clientAuthMethod?: ClientAuth['method']; now?: number; knownSecrets?: readonly string[] } = {},
): DeviceAuthorization {
  const url = options.url ?? 'device authorization endpoint';
  const reply = { status, headers, bodyText, redirected: status >= 300 && status < 400 };
  const context = {
    providerId,
    what: 'device authorization endpoint',
    url,
    grantType: GRANT_TYPES.deviceCode,
    ...(options.clientAuthMethod ? { clientAuthMethod: options.clientAuthMethod } : {}),
    ...(options.knownSecrets ? { knownSecrets: options.knownSecrets } : {}),
  };
  if (status < 200 || status >= 300) throw errorFromReply(reply, context, options.now ?? 0);
  const body = bodyMembers(parseResponseBody(headers, bodyText));
  if (!body) {
    throw new TokenError({
      code: 'protocol',
      providerId,
      status,
      message: `device authorization endpoint ${redactUrl(url)} answered with a body that is not a JSON object (${mediaType(headers)}: ${bodyPreview(headers, bodyText, 120, options.knownSecrets)})`,
      fix: 'check deviceAuthorizationEndpoint',
    });
  }
  if (body.error !== undefined) throw errorFromReply(reply, context, options.now ?? 0);
  const invalid = (field: string, rule: string) =>
    new TokenError({
      code: 'protocol',
      providerId,
      status,
      message: `device authorization response "${field}" ${rule}`,
      fix: 'the IdP answered outside RFC 8628 §3.2; check deviceAuthorizationEndpoint',
    });
  const requiredString = (field: string, value: unknown = body[field]): string => {
    if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
    return value;
  };
  const deviceCode = requiredString('device_code');
  const userCode = requiredString('user_code');
  const verificationUri = requiredString('verification_uri', body.verification_uri ?? body.verification_url);
  if (!isShowableVerificationUri(verificationUri)) throw invalid('verification_uri', 'must be an https URL (http only on a loopback host)');
  const complete = body.verification_uri_complete ?? body.verification_url_complete;
  if (complete !== undefined && complete !== null && (typeof complete !== 'string' || (complete.length > 0 && !isShowableVerificationUri(complete)))) {
    throw invalid('verification_uri_complete', 'must be an https URL (http only on a loopback host)');
  }
  const expiresIn = positiveSeconds(body.expires_in);
  if (expiresIn === undefined) throw invalid('expires_in', 'must be a positive number of seconds');
  const interval = positiveSeconds(body.interval);
  return {
    deviceCode,
    userCode,
    verificationUri,
    ...(typeof complete === 'string' && complete.length > 0 ? { verificationUriComplete: complete } : {}),
    expiresIn,
    ...(interval !== undefined ? { interval: Math.ceil(interval) } : {}),
  };
}

/**
 * A verification URI is shown to the user and may be opened in a browser: only https (http on a loopback
 * host, for labs and local IdPs). `javascript:`, `file:`, `data:` and plain http to another host are
 * refused before anything is shown or opened.
 * @see RFC 8628 §5.4 (remote phishing), §3.3
 */
export function isShowableVerificationUri(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]');
}

/**
 * Reads one device-code poll: a token, "keep polling", or "poll slower". `expired_token`,
 * `access_denied` and every other failure stay TokenErrors (codes `expired_token`, `access_denied`, …).
 * @see RFC 8628 §3.5
 */
export async function devicePollOutcome(poll: Promise<TokenSet>): Promise<DevicePollOutcome> {
  try {
    return { kind: 'token', token: await poll };
  } catch (error) {
    if (error instanceof TokenError && error.oauthError === 'authorization_pending') return { kind: 'pending' };
    if (error instanceof TokenError && error.oauthError === 'slow_down') {
      return error.retryAfterMs !== undefined ? { kind: 'slow_down', intervalSec: Math.ceil(error.retryAfterMs / 1000) } : { kind: 'slow_down' };
    }
    throw error;
  }
}

/** The token request of one device-code poll, with the grant type filled in. */
export function devicePollRequest(request: Omit<TokenRequest, 'grantType'> & { deviceCode: string }): TokenRequest {
  const { deviceCode, ...rest } = request;
  return { ...rest, grantType: GRANT_TYPES.deviceCode, params: { ...rest.params, device_code: deviceCode } };
}

import { DEFAULT_ASSUMED_LIFETIME_SEC } from '../../constants.js';
import { TokenError } from '../../errors.js';
import type { TokenSet } from '../../machines/token.js';
import { redactUrl, tokenFingerprint } from '../redact.js';
import { sendOnce, type HttpReply } from './client.js';
import { appendFormParams, clientAuthParts, readClientAssertion } from './clientAuth.js';
import { requireEndpointUrl, type HttpEnv } from './env.js';
import { errorFromReply, GRANT_TYPES, grantLabel } from './oauthErrors.js';
import { requestSecrets } from './requestSecrets.js';
import { oneShotCredential } from './oneShot.js';
import { sendWithRetry } from './retry.js';
import { jwtExpiryInLocalClock } from './serverClock.js';
import { bodyMembers, bodyPreview, mediaType, parseResponseBody } from './responseBody.js';
import type { ClientAuth, TokenRequest } from './types.js';

export interface ProcessTokenOptions {
  grantType?: string;
  /** See `processTokenResponse` for the rule. Default 300 s. */
  assumedLifetimeSec?: number;
  /** For messages: the endpoint the reply came from. */
  url?: string;
  clientAuthMethod?: ClientAuth['method'];
  /** The request's own secret values, scrubbed from anything the server echoes. */
  knownSecrets?: readonly string[];
  /** Server clock minus ours (from its `Date` header), when known; see serverClock.ts. */
  serverOffsetMs?: number;
}

/**
 * Builds, authenticates and sends a token request (with the single retry layer), then validates the
 * reply with `processTokenResponse`. A `refresh_token` grant is one-shot unless the request says
 * otherwise: it is re-sent only when the first try never left this machine, and a lost answer is a
 * TokenError `uncertain`.
 * @see RFC 6749 §3.2, §4.1.3, §4.4, §6; RFC 7523 §2.1; RFC 8693 §2.1; RFC 8628 §3.4
 */
export async function requestToken(request: TokenRequest, env: HttpEnv): Promise<TokenSet> {
  const now = request.now ?? env.now;
  const url = requireEndpointUrl(request.tokenEndpoint, 'tokenEndpoint', request.providerId).href;
  // A federated client assertion is read once per request: every attempt carries the same JWT.
  const clientAssertion = request.clientAuth.method === 'client_assertion' ? await readClientAssertion(request.clientAuth, request) : undefined;
  const credential = oneShotCredential(request.grantType, request.params, clientAssertion);
  const oneShot = request.oneShot ?? credential !== undefined;
  const grant = grantLabel(request.grantType);
  const knownSecrets = [...requestSecrets(request.clientAuth, request.params), ...(clientAssertion ? [clientAssertion] : [])];
  env.logger.debug('token_request_started', {
    providerId: request.providerId,
    grant,
    endpoint: redactUrl(url),
    clientAuth: request.clientAuth.method,
    oneShot,
  });

  let reply;
  try {
    reply = await sendWithRetry(
      async (signal) => {
        // Assertions are judged by the server's clock: sign them in it.
        const serverNow = () => now() + env.serverClock.offsetFor(url);
        const body = await tokenRequestBody(request, url, serverNow, clientAssertion);
        return sendOnce(env.client, { method: 'POST', url, headers: body.headers, body: body.form }, signal);
      },
      {
        providerId: request.providerId,
        what: 'token endpoint',
        url,
        oneShot,
        ...(credential ? { credential } : {}),
        knownSecrets,
        timeoutMs: request.timeoutMs ?? env.timeoutMs,
        ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      },
      { ...env, now },
    );
  } catch (error) {
    logFailure(env, request, error);
    throw error;
  }

  try {
    const token = processTokenResponse(request.providerId, reply.status, reply.headers, reply.bodyText, reply.attemptStart, {
      grantType: request.grantType,
      url,
      clientAuthMethod: request.clientAuth.method,
      knownSecrets,
      ...(env.serverClock.knows(url) ? { serverOffsetMs: env.serverClock.offsetFor(url) } : {}),
      ...(request.assumedLifetimeSec !== undefined ? { assumedLifetimeSec: request.assumedLifetimeSec } : {}),
    });
    env.logger.info('token_request_succeeded', {
      providerId: request.providerId,
      grant,
      attempts: reply.attempts,
      tokenType: token.tokenType,
      lifetimeSec: Math.round((token.expiresAt - token.issuedAt) / 1000),
      expiryAssumed: token.expiryAssumed === true,
      hasRefreshToken: token.refreshToken !== undefined,
      accessTokenFp: tokenFingerprint(token.accessToken),
    });
    return token;
  } catch (error) {
    logFailure(env, request, error);
    throw error;
  }
}

function logFailure(env: HttpEnv, request: TokenRequest, error: unknown): void {
  if (!(error instanceof TokenError)) return;
  // Device polling answers authorization_pending many times a minute: that is progress, not failure.
  const pending = error.oauthError === 'authorization_pending' || error.oauthError === 'slow_down';
  env.logger[pending ? 'debug' : 'warn']('token_request_failed', {
    providerId: request.providerId,
    grant: grantLabel(request.grantType),
    errorCode: error.code,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.oauthError ? { oauthError: error.oauthError } : {}),
    message: error.message,
  });
}

/** The form body and headers of one attempt (assertions are signed afresh each time). */
async function tokenRequestBody(
  request: TokenRequest,
  url: string,
  now: () => number,
  clientAssertion: string | undefined,
): Promise<{ form: string; headers: Record<string, string> }> {
  const auth = await clientAuthParts(request.clientAuth, {
    providerId: request.providerId,
    endpoint: url,
    tokenEndpoint: url,
    now,
    ...(request.issuer ? { issuer: request.issuer } : {}),
    ...(clientAssertion !== undefined ? { clientAssertion } : {}),
  });
  const form = new URLSearchParams();
  form.set('grant_type', request.grantType);
  appendFormParams(form, request.params);
  for (const [name, value] of Object.entries(auth.params)) form.set(name, value);
  return {
    form: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers },
  };
}

/**
 * Validates a token endpoint reply and turns it into a TokenSet, or throws the TokenError it stands for.
 *
 * Accepted: JSON (RFC 6749 §5.1) or a form-encoded body (GitHub's legacy shape). Rules:
 * - `access_token`: required, a non-empty string.
 * - `token_type`: must be `Bearer`, compared case-insensitively; missing → `Bearer`. RFC 8693's `N_A` (the
 *   issued token is not an OAuth access token, e.g. an ID token) → `Bearer`, because callers present it as
 *   a bearer credential; the original stays visible in `issuedTokenType`. Anything else (`DPoP`, `mac`)
 *   is a `protocol` error naming the type: this client makes no proof of possession.
 * - `expires_in`: a positive number or numeric string of seconds. **Missing, zero, negative or not a
 *   number → the token is assumed to live `assumedLifetimeSec` (default 300 s) and `expiryAssumed` is
 *   true**: short enough that a token which really lives less is re-acquired soon, long enough not to
 *   hammer the IdP; "no expiry" is never taken to mean "valid forever".
 * - `expiresAt` = `requestStart` + lifetime: counted from when the request was sent, not when the answer
 *   came, so a slow answer never makes a token look fresher than it is; for a JWT access token, never
 *   later than its `exp` translated into our clock (`serverOffsetMs` from the `Date` header, else its `iat`).
 * - `refresh_in` (server hint, seconds) → `refreshBy`, when shorter than the lifetime.
 * - `refresh_token` / `id_token` / `scope` / `issued_token_type`: kept when strings; an empty
 *   `refresh_token` counts as absent. The strict refresh-token policy is the lifecycle's, not this parser's.
 * - A body with an OAuth `error` is an error even with status 200 (GitHub does this).
 * @see RFC 6749 §5.1, §5.2; RFC 8693 §2.2.1; RFC 9449 §5
 */
export function processTokenResponse(
  providerId: string,
  status: number,
  headers: Headers,
  bodyText: string,
  requestStart: number,
  options: ProcessTokenOptions = {},
): TokenSet {
  const url = options.url ?? 'token endpoint';
  const reply: HttpReply = { status, headers, bodyText, redirected: status >= 300 && status < 400 };
  const context = {
    providerId,
    what: 'token endpoint',
    url,
    ...(options.grantType !== undefined ? { grantType: options.grantType } : {}),
    ...(options.clientAuthMethod ? { clientAuthMethod: options.clientAuthMethod } : {}),
    ...(options.knownSecrets ? { knownSecrets: options.knownSecrets } : {}),
  };
  if (status < 200 || status >= 300) throw errorFromReply(reply, context, requestStart);

  const parsed = parseResponseBody(headers, bodyText);
  const body = bodyMembers(parsed);
  if (!body) {
    throw new TokenError({
      code: 'protocol',
      providerId,
      status,
      message: `token endpoint ${redactUrl(url)} answered HTTP ${status} with a body that is not a JSON object (${mediaType(headers)}: ${bodyPreview(headers, bodyText, 120, options.knownSecrets)})`,
      fix: 'check that tokenEndpoint points at the IdP and not at a login page or a proxy',
    });
  }
  if (body.error !== undefined && body.access_token === undefined) throw errorFromReply(reply, context, requestStart);

  const invalid = (field: string, rule: string) =>
    new TokenError({
      code: 'protocol',
      providerId,
      status,
      message: `token response "${field}" ${rule}`,
      fix: 'the IdP answered outside RFC 6749 §5.1; check tokenEndpoint and the IdP version',
    });

  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) throw invalid('access_token', 'must be a non-empty string');

  if (body.token_type !== undefined && typeof body.token_type !== 'string') throw invalid('token_type', 'must be a string');
  const tokenType = normaliseTokenType(body.token_type);
  if (tokenType !== 'Bearer') {
    // A DPoP- or MAC-bound token is useless without the proof this client never makes: refuse it now,
    // not at the gateway's first 401.
    throw new TokenError({
      code: 'protocol',
      providerId,
      status,
      message: `token response "token_type" is ${JSON.stringify(tokenType.slice(0, 40))}; only Bearer tokens can be used (RFC 6750)`,
      fix: 'configure the client at the IdP for Bearer tokens (turn off DPoP or sender-constrained tokens for it)',
    });
  }

  const optionalString = (field: string): string | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalid(field, 'must be a string');
    return value.length > 0 ? value : undefined;
  };
  const refreshToken = optionalString('refresh_token');
  const idToken = optionalString('id_token');
  const issuedTokenType = optionalString('issued_token_type');
  const scope = Array.isArray(body.scope) && body.scope.every((s) => typeof s === 'string')
    ? body.scope.join(' ')
    : optionalString('scope');

  const lifetimeSec = positiveSeconds(body.expires_in);
  const assumed = options.assumedLifetimeSec ?? DEFAULT_ASSUMED_LIFETIME_SEC;
  // A JWT access token expires at its own `exp` in the server's clock, whatever `expires_in` said (or was
  // assumed to be): never hold it past that instant, translated into ours.
  const jwtExpiry = jwtExpiryInLocalClock(accessToken, options.serverOffsetMs, requestStart);
  const expiresAt = Math.min(requestStart + (lifetimeSec ?? assumed) * 1000, jwtExpiry !== undefined && jwtExpiry > requestStart ? jwtExpiry : Infinity);
  const refreshInSec = positiveSeconds(body.refresh_in);
  const refreshBy = refreshInSec !== undefined && requestStart + refreshInSec * 1000 < expiresAt
    ? requestStart + refreshInSec * 1000
    : undefined;

  return {
    accessToken,
    tokenType,
    issuedAt: requestStart,
    expiresAt,
    ...(lifetimeSec === undefined ? { expiryAssumed: true } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(refreshBy !== undefined ? { refreshBy } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(issuedTokenType !== undefined ? { issuedTokenType } : {}),
    ...(idToken !== undefined ? { idToken } : {}),
  };
}

/** `bearer` → `Bearer`, `dpop` → `DPoP`, `n_a` → `Bearer`, missing → `Bearer`; anything else verbatim. */
export function normaliseTokenType(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') return 'Bearer';
  const trimmed = value.trim();
  switch (trimmed.toLowerCase()) {
    case 'bearer':
    case 'n_a':
      return 'Bearer';
    case 'dpop':
      return 'DPoP';
    default:
      return trimmed;
  }
}

/** A positive finite number of seconds from a number or a numeric string; anything else undefined. */
export function positiveSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

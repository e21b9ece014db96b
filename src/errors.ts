/**
 * Errors are values with a stable code, the provider they concern and a fix the user can act on.
 * Messages never carry a secret: callers log `message` verbatim, so every producer must pass text
 * through `scrubSecrets` (adapters/redact.ts) before it lands here.
 */
/**
 * Every code the product raises, as a runtime list (docs/troubleshooting.md has a `## <code>` entry for
 * each). OAuth answers keep their RFC 6749 names; model discovery shares the taxonomy.
 */
export const TOKEN_ERROR_CODES = [
  /** The IdP rejected the grant (refresh token spent/revoked, assertion refused, code reused). */
  'invalid_grant',
  /** Client authentication failed: wrong secret, wrong auth method, unknown client. */
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_request',
  /** A user flow needs a human (browser or device code): none may be asked now, or the IdP wants one back. */
  'interaction_required',
  /** Strict policy: a user-flow token without a refresh token is refused. */
  'no_refresh_token',
  /** The IdP or network failed in a way that may succeed later (5xx, 429, connection errors). */
  'transient',
  /** The overall deadline passed (hung IdP, slow network). */
  'timeout',
  /** A refresh was sent but its answer was lost: the refresh token may or may not be spent. */
  'uncertain',
  /** Another process held the lock past the bounded wait; we never proceed unlocked. */
  'lock_timeout',
  /** The store could not be read or written. */
  'storage',
  /** The subject token (CI OIDC, projected SA token, file, env) could not be had or is unusable. */
  'subject_token',
  /** The IdP answered something that breaks the protocol (missing access_token, bad JSON, wrong issuer). */
  'protocol',
  /** Device flow / browser login: the user refused or the code expired. */
  'access_denied',
  'expired_token',
  /** Configuration is invalid or incomplete. */
  'config',
  /** The credentials were removed (logout, eviction). */
  'evicted',
  /** Model discovery: the gateway refused the token (401). */
  'unauthorized',
  /** Model discovery: the token is valid but lacks the right (403: scope, audience, role). */
  'forbidden',
  /** Model discovery: no model list at the configured path. */
  'not_found',
  /** Model discovery: any other non-2xx answer. */
  'http_error',
  /** Model discovery: no answer at all (connection refused, DNS, TLS). */
  'network',
  /** Model discovery: 2xx, but not a model list (an HTML login page, bad JSON). */
  'invalid_response',
  /** Model discovery: a redirect to another origin, where the token is not carried. */
  'redirect',
  'too_large',
] as const;

export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

/** Only a login helps (credentials are kept until it happens). */
const NEEDS_LOGIN: ReadonlySet<TokenErrorCode> = new Set(['interaction_required', 'no_refresh_token', 'invalid_grant', 'evicted', 'access_denied', 'expired_token']);
/** No retry helps until the config (or the IdP's client registration) changes. */
const PERMANENT: ReadonlySet<TokenErrorCode> = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_request', 'config', 'forbidden', 'not_found', 'redirect']);
/** Worth another attempt later without any change by the user. */
const TRANSIENT: ReadonlySet<TokenErrorCode> = new Set(['transient', 'timeout', 'lock_timeout', 'uncertain', 'network', 'http_error', 'storage']);

export function needsLogin(code: TokenErrorCode): boolean {
  return NEEDS_LOGIN.has(code);
}
export function isPermanent(code: TokenErrorCode): boolean {
  return PERMANENT.has(code);
}
/** Errors worth another attempt later without any change by the user. */
export function isTransient(code: TokenErrorCode): boolean {
  return TRANSIENT.has(code);
}
/** Where the user reads what a code means and what to do: docs/troubleshooting.md has one entry per code. */
export function docsFor(code: TokenErrorCode): string {
  return `docs/troubleshooting.md#${code}`;
}

export interface TokenErrorInit {
  code: TokenErrorCode;
  providerId: string;
  message: string;
  /** What the user can do about it, one sentence. */
  fix?: string;
  /** HTTP status of the response that caused it, when there was one. */
  status?: number;
  /** The OAuth `error` field as the server sent it (already known to be non-secret). */
  oauthError?: string;
  /** True when the request never left this machine (connect refused, DNS): safe to retry anything. */
  notSent?: boolean;
  /** Retry-After in ms, when the server gave one. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;
  readonly providerId: string;
  readonly fix: string | undefined;
  readonly status: number | undefined;
  readonly oauthError: string | undefined;
  readonly notSent: boolean;
  readonly retryAfterMs: number | undefined;
  /** docs/troubleshooting.md#<code>. */
  readonly docs: string;

  constructor(init: TokenErrorInit) {
    const text = `[${init.providerId}] ${init.message}${init.fix ? ` — ${init.fix}` : ''}`;
    super(text, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.providerId = init.providerId;
    this.fix = init.fix;
    this.status = init.status;
    this.oauthError = init.oauthError;
    this.notSent = init.notSent ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.docs = docsFor(init.code);
  }

  /** A plain, serialisable, secret-free view (for machine context, inspector events and tool output). */
  toJSON(): TokenErrorInfo {
    return {
      code: this.code,
      providerId: this.providerId,
      message: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.oauthError ? { oauthError: this.oauthError } : {}),
      ...(this.notSent ? { notSent: true } : {}),
    };
  }
}

/** The serialisable shape machines keep in context (Error objects serialise to `{}`). */
export interface TokenErrorInfo {
  code: TokenErrorCode;
  providerId: string;
  message: string;
  fix?: string;
  status?: number;
  oauthError?: string;
  notSent?: boolean;
}

export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError;
}


/**
 * The one normaliser: anything thrown or reported (a TokenError, an error value from a machine, a model
 * discovery error, a bug) as a TokenErrorInfo, without leaking a message that is not already ours.
 */
export function toErrorInfo(providerId: string, error: unknown, fallback: TokenErrorCode = 'transient'): TokenErrorInfo {
  if (isTokenError(error)) return error.toJSON();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const e = error as TokenErrorInfo;
    return {
      code: e.code,
      providerId: e.providerId ?? providerId,
      message: e.message,
      ...(e.fix ? { fix: e.fix } : {}),
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.oauthError ? { oauthError: e.oauthError } : {}),
      ...(e.notSent ? { notSent: true } : {}),
    };
  }
  return {
    code: fallback,
    providerId,
    message: `[${providerId}] unexpected failure (${error instanceof Error ? error.name : typeof error})`,
  };
}

/** An error value (machine context, a flow's output) back into a throwable TokenError with the same text. */
export function fromErrorInfo(info: TokenErrorInfo): TokenError {
  const prefix = `[${info.providerId}] `;
  const suffix = info.fix ? ` — ${info.fix}` : '';
  let message = info.message.startsWith(prefix) ? info.message.slice(prefix.length) : info.message;
  if (suffix && message.endsWith(suffix)) message = message.slice(0, -suffix.length);
  return new TokenError({
    code: info.code,
    providerId: info.providerId,
    message,
    ...(info.fix ? { fix: info.fix } : {}),
    ...(info.status !== undefined ? { status: info.status } : {}),
    ...(info.oauthError ? { oauthError: info.oauthError } : {}),
    ...(info.notSent ? { notSent: true } : {}),
  });
}

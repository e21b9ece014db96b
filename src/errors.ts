/**
 * Errors are values with a stable code, the provider they concern and a fix the user can act on.
 * Messages never carry a secret: callers log `message` verbatim, so every producer must pass text
 * through `scrubSecrets` (adapters/redact.ts) before it lands here.
 */
export type TokenErrorCode =
  /** The IdP rejected the grant (refresh token spent/revoked, assertion refused, code reused). */
  | 'invalid_grant'
  /** Client authentication failed: wrong secret, wrong auth method, unknown client. */
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_request'
  /** A user flow needs a human (browser or device code) and none may be asked right now. */
  | 'interaction_required'
  /** Strict policy: a user-flow token without a refresh token is refused. */
  | 'no_refresh_token'
  /** The IdP or network failed in a way that may succeed later (5xx, 429, connection errors). */
  | 'transient'
  /** The overall deadline passed (hung IdP, slow network). */
  | 'timeout'
  /** A refresh was sent but its answer was lost: the refresh token may or may not be spent. */
  | 'uncertain'
  /** Another process held the lock past the bounded wait; we never proceed unlocked. */
  | 'lock_timeout'
  /** The store could not be read or written. */
  | 'storage'
  /** The subject token (CI OIDC, projected SA token, file, env) could not be had or is unusable. */
  | 'subject_token'
  /** The IdP answered something that breaks the protocol (missing access_token, bad JSON, wrong issuer). */
  | 'protocol'
  /** Device flow / browser login: the user refused or the code expired. */
  | 'access_denied'
  | 'expired_token'
  /** Configuration is invalid or incomplete. */
  | 'config'
  /** The credentials were removed (logout, eviction). */
  | 'evicted';

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

/** Errors worth another attempt later without any change by the user. */
export function isTransient(code: TokenErrorCode): boolean {
  return code === 'transient' || code === 'timeout' || code === 'lock_timeout';
}

/** Turn anything thrown into a TokenErrorInfo without leaking its message unless it is already ours. */
export function toErrorInfo(providerId: string, error: unknown): TokenErrorInfo {
  if (isTokenError(error)) return error.toJSON();
  if (error && typeof error === 'object' && 'code' in error && 'providerId' in error && 'message' in error) {
    return error as TokenErrorInfo;
  }
  return {
    code: 'transient',
    providerId,
    message: `[${providerId}] unexpected failure (${error instanceof Error ? error.name : typeof error})`,
  };
}

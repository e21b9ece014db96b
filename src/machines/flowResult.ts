import { TokenError, toErrorInfo, type TokenErrorCode, type TokenErrorInfo } from '../errors.js';
import type { TokenSet } from './token.js';

/** What every acquisition machine ends with: a token, or a secret-free error value. */
export type FlowResult = { status: 'succeeded'; token: TokenSet } | { status: 'failed'; error: TokenErrorInfo };

/** The context fields every flow machine fills on the way to its final state. */
export interface FlowOutcome {
  providerId: string;
  token: TokenSet | null;
  error: TokenErrorInfo | null;
}

export function flowOutput(context: FlowOutcome): FlowResult {
  if (context.token && !context.error) return { status: 'succeeded', token: context.token };
  return {
    status: 'failed',
    error: context.error ?? flowError(context.providerId, 'protocol', 'the flow ended without a token'),
  };
}

/** Build the error value a machine keeps in context (pure: TokenError holds no I/O). */
export function flowError(
  providerId: string,
  code: TokenErrorCode,
  message: string,
  fix?: string,
  extra?: { oauthError?: string; status?: number },
): TokenErrorInfo {
  return new TokenError({ code, providerId, message, ...(fix ? { fix } : {}), ...extra }).toJSON();
}

/** An actor's rejection as a TokenErrorInfo; anything not already ours is reported without its message. */
export function actorError(providerId: string, error: unknown): TokenErrorInfo {
  return toErrorInfo(providerId, error);
}

/**
 * The strict policy of user flows: a token without a refresh token would force a new browser login at
 * every expiry, so it is refused at once with the fix.
 */
export function missingRefreshTokenError(providerId: string): TokenErrorInfo {
  return flowError(
    providerId,
    'no_refresh_token',
    'the IdP issued no refresh token',
    'request offline_access or enable refresh tokens for this client',
  );
}

export const hasRefreshToken = (token: TokenSet | undefined): boolean =>
  typeof token?.refreshToken === 'string' && token.refreshToken.length > 0;

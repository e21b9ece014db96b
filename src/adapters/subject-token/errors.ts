import { TokenError, type TokenErrorCode } from '../../errors.js';

/** Errors of a subject-token source: they name the source and the fix, never the token. */
export function subjectTokenError(
  providerId: string,
  source: string,
  message: string,
  fix: string,
  options: { code?: TokenErrorCode; status?: number; cause?: unknown } = {},
): TokenError {
  return new TokenError({
    code: options.code ?? 'subject_token',
    providerId,
    message: `subjectTokenSource (${source}): ${message}`,
    fix,
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}

/** Abort when the caller aborts or after `ms`, whichever comes first. */
export function deadlineSignal(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

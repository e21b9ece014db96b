import { TokenError, type TokenErrorInfo } from '../errors.js';

/** A machine's error value back into a throwable TokenError with the same text (no doubled prefix). */
export function tokenErrorFromInfo(info: TokenErrorInfo): TokenError {
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

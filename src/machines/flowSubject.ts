import type { SubjectTokenRead } from './flowTypes.js';
import type { TokenSet } from './token.js';

/** A subject token with less than this left is re-fetched once before it is exchanged or passed on. */
export const DEFAULT_MIN_SUBJECT_LIFETIME_SEC = 60;

/** Seconds of life left at the moment of reading; undefined when the token carries no `exp`. */
export function subjectLifetimeLeftMs(read: SubjectTokenRead): number | undefined {
  return read.expiresAt === undefined ? undefined : read.expiresAt - read.readAt;
}

export function isSubjectNearlyExpired(read: SubjectTokenRead, minLifetimeSec: number): boolean {
  const left = subjectLifetimeLeftMs(read);
  return left !== undefined && left < minLifetimeSec * 1000;
}

export function isSubjectExpired(read: SubjectTokenRead): boolean {
  const left = subjectLifetimeLeftMs(read);
  return left !== undefined && left <= 0;
}

/**
 * A token derived from a subject never outlives it: `expiresAt` and `refreshBy` are capped at the
 * subject's `exp`, so the next acquisition starts from a fresh subject token.
 */
export function capToSubject(token: TokenSet, subjectExpiresAt: number | undefined): TokenSet {
  if (subjectExpiresAt === undefined) return token;
  const expiresAt = Math.min(token.expiresAt, subjectExpiresAt);
  const refreshBy = Math.min(token.refreshBy ?? subjectExpiresAt, subjectExpiresAt);
  return { ...token, expiresAt, refreshBy: Math.min(refreshBy, expiresAt) };
}

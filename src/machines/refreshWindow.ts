import type { TokenSet } from './token.js';

/**
 * When a token stops being "fresh" (soft: serve it, renew in the background) and stops being usable
 * (hard: callers wait for the renewal). Pure functions of the token and a policy; the clock is the caller's.
 *
 * Rules, with L the token's lifetime (expiresAt − issuedAt):
 * - soft margin = min(5 min, L/2) + a per-process jitter of up to min(30 s, L/10), so processes that
 *   share a store do not all renew in the same instant;
 * - hard margin = min(clamp(L/10, 10 s, 60 s), L/4), raised to the configured clock skew but never past L/4,
 *   so an 8 s test token or a 5-minute CI token is still reused instead of renewed on every call;
 * - a server hint (`refresh_in`) or a subject token's own expiry (`refreshBy`) can only bring renewal earlier.
 */
export interface TimingPolicy {
  /** Allowance for clock differences with the server; part of the hard margin (capped at L/4). */
  skewMs: number;
  /** This process's draw in [0, 1): scales the jitter. One draw per process keeps its timing stable. */
  jitterFraction: number;
  /** After a failed renewal that may pass (IdP down, lock timeout): fail fast for this long. Default 5 s. */
  retryAfterFailureMs?: number;
  /** After a failure only a config change fixes (invalid_client, invalid_scope, …). Default 60 s. */
  retryAfterPermanentFailureMs?: number;
}

export const DEFAULT_RETRY_AFTER_FAILURE_MS = 5_000;
export const DEFAULT_RETRY_AFTER_PERMANENT_FAILURE_MS = 60_000;

export interface RefreshSchedule {
  /** From here on: serve the token, but renew on the next demand. */
  softAt: number;
  /** From here on: the token is not served; callers wait for the renewal. */
  hardAt: number;
  expiresAt: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

const clamp = (value: number, low: number, high: number) => Math.min(Math.max(value, low), high);

export function hardMargin(lifetimeMs: number, skewMs: number): number {
  const quarter = lifetimeMs / 4;
  const base = Math.min(clamp(lifetimeMs / 10, 10 * SECOND, 60 * SECOND), quarter);
  return Math.min(Math.max(base, skewMs), quarter);
}

export function softMargin(lifetimeMs: number, jitterFraction: number): number {
  const jitter = Math.min(30 * SECOND, lifetimeMs / 10) * clamp(jitterFraction, 0, 1);
  return Math.min(5 * MINUTE, lifetimeMs / 2) + jitter;
}

export function refreshSchedule(token: Pick<TokenSet, 'issuedAt' | 'expiresAt' | 'refreshBy'>, policy: TimingPolicy): RefreshSchedule {
  const lifetime = Math.max(0, token.expiresAt - token.issuedAt);
  const hardAt = token.expiresAt - hardMargin(lifetime, policy.skewMs);
  let softAt = Math.min(token.expiresAt - softMargin(lifetime, policy.jitterFraction), hardAt);
  if (token.refreshBy !== undefined) softAt = Math.min(softAt, token.refreshBy);
  return { softAt, hardAt, expiresAt: token.expiresAt };
}

/** A token may be handed to a caller only before its hard deadline. */
export function isServable(schedule: RefreshSchedule | null, now: number): boolean {
  return schedule !== null && now < schedule.hardAt;
}

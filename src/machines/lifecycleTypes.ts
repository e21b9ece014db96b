/** The data tokenLifecycle takes, keeps, receives, emits and hands its actors (pure shapes). */
import type { TokenErrorInfo } from '../errors.js';
import type { RefreshSchedule, TimingPolicy } from './refreshWindow.js';
import type { FlowName, TokenSet } from './token.js';

/** The part of a stored record the lifecycle reasons about (no secrets beyond the token itself). */
export interface StoredToken {
  generation: number;
  token?: TokenSet;
  /** An `invalid_grant` (or a lost refresh answer) retired this record's refresh token. */
  tombstone?: { reason: string; generation: number };
}

export interface LifecycleClock {
  now(): number;
}

export interface LifecycleInput {
  providerId: string;
  flow: FlowName;
  clock: LifecycleClock;
  timing: TimingPolicy;
  /**
   * The flow machine's input (pure data: client id, scopes, …) without `interactive`, which the lifecycle
   * adds per acquisition. The flow machine itself is the provided `acquireToken` actor: a child of this one.
   */
  acquisition?: Readonly<Record<string, unknown>>;
}

export interface LifecycleContext {
  providerId: string;
  flow: FlowName;
  clock: LifecycleClock;
  timing: TimingPolicy;
  acquisition: Readonly<Record<string, unknown>>;
  /** The token callers get (published: already persisted, or kept in memory after a failed write). */
  token: TokenSet | null;
  schedule: RefreshSchedule | null;
  /** A renewed token on its way to the store; published only once written (persist before publish). */
  candidate: TokenSet | null;
  /** Store generation the held token came from or was written as; 0 = nothing stored yet. */
  generation: number;
  /** Whether the renewal under way may ask a human (browser or device code). */
  interactive: boolean;
  lastError: TokenErrorInfo | null;
  /** The store refused our write: keep the token in memory and never adopt an older stored one. */
  persistFailed: boolean;
  /** How the renewal under way got its token, until it is announced (`token.renewed`) once served. */
  renewal: Renewal | null;
  /** The lock lease held by the renewal under way (opaque, no secret); null outside a renewal. */
  lease: string | null;
  /** Refresh answers lost (`uncertain`) since the last good token: the refresh token may be spent or not. */
  doubtfulRefreshes: number;
}

export type LifecycleEvent =
  | { type: 'TOKEN.NEEDED'; interactive?: boolean }
  | { type: 'TOKEN.REJECTED'; accessToken: string }
  | { type: 'STORE.CHANGED' }
  | { type: 'LOGIN.REQUESTED' }
  /** The caller of an interactive login gave up (its signal aborted): stop the flow, keep what is held. */
  | { type: 'LOGIN.CANCELLED' }
  | { type: 'LOGOUT' }
  ;

export type Renewal = 'refreshed' | 'acquired' | 'adopted';

export type LifecycleEmitted =
  | { type: 'token.renewed'; how: Renewal; generation: number; expiresAt: number }
  | { type: 'token.failed'; error: TokenErrorInfo }
  | { type: 'store.persist_failed'; error: TokenErrorInfo }
  | { type: 'logged_out' };

export interface RenewInput {
  providerId: string;
  flow: FlowName;
}
export interface RefreshInput extends RenewInput {
  refreshToken: string;
}
/** The provider's flow-machine input with whether a human may be asked now. */
export interface AcquireInput extends Readonly<Record<string, unknown>> {
  providerId: string;
  interactive: boolean;
}
export interface PersistInput extends RenewInput {
  token: TokenSet;
  expectedGeneration: number;
  tombstone?: { reason: string };
}
export interface LogoutInput extends RenewInput {
  token: TokenSet | null;
}

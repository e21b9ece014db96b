import type { FlowKind, TokenSet } from '../../machines/token.js';

/**
 * What a stored token is bound to. A change in any field is a different record, so a config change
 * (new scopes, another client, another audience) never reuses a stale token.
 */
export interface StoreKeyInput {
  providerId: string;
  issuer: string;
  clientId: string;
  flow: FlowKind;
  scopes: readonly string[];
  audience?: string;
  resource?: string;
}

export interface StoreKey {
  /** Safe as a file name: `<sanitised provider id>-<12 hex of sha256(descriptor)>`. */
  id: string;
  providerId: string;
  /** The descriptor that was hashed (no secrets), stored in the record for humans and diagnostics. */
  descriptor: Omit<StoreKeyInput, 'providerId'>;
}

export interface Tombstone {
  reason: string;
  at: number;
  generation: number;
}

export interface TokenRecord {
  schema: 1;
  keyId: string;
  providerId: string;
  descriptor: StoreKey['descriptor'];
  /** Incremented by every successful write; compare-and-swap guard. 0 = never written. */
  generation: number;
  updatedAt: number;
  token?: TokenSet;
  /** Left by an `invalid_grant` that no newer record could fix; the token fields stay as they were. */
  tombstone?: Tombstone;
  /** Fields this version does not know are preserved on read-modify-write. */
  [unknown: string]: unknown;
}

/** Thrown by `write` when the stored generation is not the expected one. */
export class GenerationConflict extends Error {
  override readonly name = 'GenerationConflict';
  constructor(
    readonly keyId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`store record ${keyId} is at generation ${actual}, expected ${expected}`);
  }
}

export interface LockOptions {
  /** Upper bound on the wait for another holder; then `lock_timeout`, never an unlocked run. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** A held cross-process lock; `release` is idempotent. */
export interface LockHandle {
  release(): Promise<void>;
  /** True once the holder learnt that another process took the lock over (it must then write nothing). */
  readonly lost?: boolean;
  /** Checks, now, that the lock is still this holder's; false once lost or released. */
  verify?(): Promise<boolean>;
}

export interface TokenStore {
  /** The current record, or undefined for none (a corrupt record is moved aside and reads as none). */
  read(key: StoreKey): Promise<TokenRecord | undefined>;
  /**
   * Writes `next` as generation `expectedGeneration + 1` if the stored generation is still
   * `expectedGeneration` (0 for "no record"); otherwise throws GenerationConflict. Atomic.
   * Unknown fields of the stored record are kept unless `next` sets them.
   */
  write(key: StoreKey, next: Pick<TokenRecord, 'token' | 'tombstone'>, expectedGeneration: number): Promise<TokenRecord>;
  delete(key: StoreKey): Promise<void>;
  /** Exclusive per key, across processes for the file store. Rejects with a TokenError `lock_timeout`. */
  lock(key: StoreKey, options?: LockOptions): Promise<LockHandle>;
  /** Where records live, for diagnostics and for the plugin's tool-access guard. Undefined for memory. */
  readonly location?: string;
}

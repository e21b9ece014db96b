import { TokenError } from '../../errors.js';
import { DEFAULT_LOCK_WAIT_MS } from './fileLock.js';
import { KeyedMutex } from './keyedMutex.js';
import { nextRecord } from './record.js';
import { GenerationConflict, type LockHandle, type TokenRecord, type TokenStore } from './types.js';

export interface MemoryStoreOptions {
  /** Default upper bound on a lock wait; a call's own `waitMs` wins. Default 15000. */
  waitMs?: number;
  now?: () => number;
}

/**
 * A token store in this process's memory, with the file store's semantics: compare-and-swap on
 * `generation`, a kept token when `next.token` is undefined, preserved unknown fields, and a per-key lock
 * with a bounded wait ending in `lock_timeout`. Records are deep-copied in and out, so no caller can change
 * what another reads.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): TokenStore {
  const records = new Map<string, TokenRecord>();
  const locks = new KeyedMutex();
  const now = options.now ?? Date.now;

  return {
    location: undefined,

    async read(key) {
      const record = records.get(key.id);
      return record && structuredClone(record);
    },

    async write(key, next, expectedGeneration) {
      if (!Number.isSafeInteger(expectedGeneration) || expectedGeneration < 0) {
        throw new RangeError('expectedGeneration must be a non-negative integer');
      }
      const current = records.get(key.id);
      const actual = current?.generation ?? 0;
      if (actual !== expectedGeneration) throw new GenerationConflict(key.id, expectedGeneration, actual);
      const record = structuredClone(nextRecord(key, current, next, now()));
      records.set(key.id, record);
      return structuredClone(record);
    },

    async delete(key) {
      records.delete(key.id);
    },

    async lock(key, call): Promise<LockHandle> {
      const waitMs = call?.waitMs ?? options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
      const release = await locks.acquire(key.id, {
        waitMs,
        signal: call?.signal,
        timeoutError: () =>
          new TokenError({
            code: 'lock_timeout',
            providerId: key.providerId,
            message: `the token lock was still held in this process after ${waitMs} ms`,
            fix: 'retry shortly; a holder that never releases its lock is a bug in the caller',
          }),
      });
      return {
        async release() {
          release();
        },
      };
    },
  };
}

import type { StoreKey, TokenRecord } from './types.js';

/** Fields the store owns; a caller's `next` can never set them. */
const STORE_FIELDS = new Set(['schema', 'keyId', 'providerId', 'descriptor', 'generation', 'updatedAt']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Why `value` is not a usable record for `keyId`, or undefined when it is. Reasons name fields only, never
 * values: the record holds tokens and the reason goes to the log.
 */
export function recordProblem(value: unknown, keyId: string): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  if (value.schema !== 1) return 'unknown schema';
  if (value.keyId !== keyId) return 'keyId does not match the file';
  if (typeof value.providerId !== 'string') return 'providerId missing';
  if (!isObject(value.descriptor)) return 'descriptor missing';
  if (!Number.isSafeInteger(value.generation) || (value.generation as number) < 1) return 'generation invalid';
  if (!isFiniteNumber(value.updatedAt)) return 'updatedAt invalid';
  if (value.token !== undefined) {
    const token = value.token;
    if (!isObject(token)) return 'token not an object';
    if (typeof token.accessToken !== 'string') return 'token.accessToken invalid';
    if (typeof token.tokenType !== 'string') return 'token.tokenType invalid';
    if (!isFiniteNumber(token.issuedAt)) return 'token.issuedAt invalid';
    if (!isFiniteNumber(token.expiresAt)) return 'token.expiresAt invalid';
    if (token.refreshToken !== undefined && typeof token.refreshToken !== 'string') return 'token.refreshToken invalid';
  }
  if (value.tombstone !== undefined) {
    const t = value.tombstone;
    if (!isObject(t) || typeof t.reason !== 'string' || !isFiniteNumber(t.at) || !isFiniteNumber(t.generation)) {
      return 'tombstone invalid';
    }
  }
  return undefined;
}

/**
 * The generation after `current`. At Number.MAX_SAFE_INTEGER (a forged or damaged record: no store writes
 * 2^53 times) it starts again at 1 instead of storing 2^53, which the next read would quarantine as invalid
 * and so lose the token just written (a rotated refresh token cannot be fetched again). A writer still
 * expecting the old generation gets a conflict and re-reads, as after any other process's write.
 */
export function nextGeneration(current: number): number {
  return current >= Number.MAX_SAFE_INTEGER ? 1 : current + 1;
}

/**
 * The record a successful write stores, shared by every store so their semantics cannot drift:
 * - `next.token === undefined` keeps the stored token: nothing ever blanks stored credentials (only
 *   `delete` removes them).
 * - `tombstone`: when `next` has the key, its value wins (undefined clears); a write that brings a new token
 *   and says nothing of the tombstone clears it (the new token supersedes it); otherwise it is kept.
 * - Unknown top-level fields of the stored record are kept unless `next` sets them.
 */
export function nextRecord(
  key: StoreKey,
  current: TokenRecord | undefined,
  next: Pick<TokenRecord, 'token' | 'tombstone'>,
  now: number,
): TokenRecord {
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(current ?? {})) {
    if (!STORE_FIELDS.has(field)) record[field] = value;
  }
  for (const [field, value] of Object.entries(next)) {
    if (!STORE_FIELDS.has(field) && field !== 'token' && field !== 'tombstone' && value !== undefined) record[field] = value;
  }
  const token = next.token ?? current?.token;
  const tombstone = 'tombstone' in next ? next.tombstone : next.token !== undefined ? undefined : current?.tombstone;
  delete record.token;
  delete record.tombstone;
  return {
    ...record,
    schema: 1,
    keyId: key.id,
    providerId: key.providerId,
    descriptor: key.descriptor,
    generation: nextGeneration(current?.generation ?? 0),
    updatedAt: now,
    ...(token === undefined ? {} : { token }),
    ...(tombstone === undefined ? {} : { tombstone }),
  };
}

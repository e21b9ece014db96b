import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createMemoryStore } from '../../src/adapters/storage/memoryStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { GenerationConflict } from '../../src/adapters/storage/types.js';
import type { TokenSet } from '../../src/machines/token.js';

/**
 * Issue 10.8: a record at Number.MAX_SAFE_INTEGER was accepted, the next write stored 2^53, and the next read
 * quarantined it: the freshly rotated refresh token was lost. The generation starts again at 1 instead.
 */

const key = storeKey({ providerId: 'corp', issuer: 'https://idp.example.test', clientId: 'c', flow: 'authorization_code', scopes: ['a'] });
const rotated: TokenSet = { accessToken: 'at-new', tokenType: 'Bearer', issuedAt: 1, expiresAt: 2, refreshToken: 'rt-rotated' };
let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'generation-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('generation overflow (issue 10.8)', () => {
  it('file store: the write after MAX_SAFE_INTEGER stores generation 1 and the rotated token reads back', async () => {
    const dir = path.join(root, 'file');
    const store = createFileStore({ dir });
    await store.write(key, { token: { ...rotated, refreshToken: 'rt-old' } }, 0);
    const file = path.join(dir, `${key.id}.json`);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...record, generation: Number.MAX_SAFE_INTEGER }));

    const stored = await store.read(key);
    expect(stored?.generation).toBe(Number.MAX_SAFE_INTEGER);
    const written = await store.write(key, { token: rotated }, Number.MAX_SAFE_INTEGER);
    expect(written.generation).toBe(1);
    expect((await store.read(key))?.token?.refreshToken).toBe('rt-rotated');
    expect(readdirSync(dir).filter((name) => name.includes('corrupt'))).toEqual([]);
    // A writer still expecting the old generation conflicts, as after any other process's write.
    await expect(store.write(key, { token: rotated }, Number.MAX_SAFE_INTEGER)).rejects.toBeInstanceOf(GenerationConflict);
  });

  it('the rule both stores share: only MAX_SAFE_INTEGER wraps to 1', async () => {
    expect((await createMemoryStore().write(key, { token: rotated }, 0)).generation).toBe(1);
    const { nextGeneration } = await import('../../src/adapters/storage/record.js');
    expect(nextGeneration(Number.MAX_SAFE_INTEGER)).toBe(1);
    expect(nextGeneration(Number.MAX_SAFE_INTEGER - 1)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

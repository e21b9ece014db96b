import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { createMemoryStore } from '../../src/adapters/storage/memoryStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { GenerationConflict, type TokenRecord, type TokenStore } from '../../src/adapters/storage/types.js';
import { TokenError } from '../../src/errors.js';
import { keyInput, sleep, tokenSet } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

let clock = 1_000;
const now = () => ++clock;

const stores: Array<[string, () => Promise<TokenStore>]> = [
  ['memory store', async () => createMemoryStore({ now })],
  [
    'file store',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'oom-contract-'));
      dirs.push(dir);
      return createFileStore({ dir: path.join(dir, 'tokens'), now });
    },
  ],
];

describe.each(stores)('%s', (_name, makeStore) => {
  const key = storeKey(keyInput());

  it('round-trips a record and stamps generation and updatedAt', async () => {
    const store = await makeStore();
    expect(await store.read(key)).toBeUndefined();
    const written = await store.write(key, { token: tokenSet('at-1', { refreshToken: 'rt-1' }) }, 0);
    expect(written).toMatchObject({ schema: 1, keyId: key.id, providerId: 'corp', generation: 1, descriptor: key.descriptor });
    expect(written.updatedAt).toBe(clock);
    expect(await store.read(key)).toEqual(written);
  });

  it('refuses a write whose expected generation is not the stored one', async () => {
    const store = await makeStore();
    await store.write(key, { token: tokenSet('at-1') }, 0);
    const stale = store.write(key, { token: tokenSet('at-2') }, 0);
    await expect(stale).rejects.toBeInstanceOf(GenerationConflict);
    await expect(stale).rejects.toMatchObject({ keyId: key.id, expected: 0, actual: 1 });
    await expect(store.write(key, { token: tokenSet('at-2') }, 7)).rejects.toMatchObject({ expected: 7, actual: 1 });
    expect((await store.read(key))?.token?.accessToken).toBe('at-1');
  });

  it('keeps the stored token when next.token is undefined, and a new token ends a tombstone', async () => {
    const store = await makeStore();
    await store.write(key, { token: tokenSet('at-1', { refreshToken: 'rt-1' }) }, 0);
    const tombstone = { reason: 'invalid_grant', at: 5, generation: 1 };
    const marked = await store.write(key, { token: undefined, tombstone }, 1);
    expect(marked.token?.refreshToken).toBe('rt-1');
    expect(marked.tombstone).toEqual(tombstone);

    const untouched = await store.write(key, {}, 2);
    expect(untouched.tombstone).toEqual(tombstone);
    expect(untouched.token?.accessToken).toBe('at-1');

    const renewed = await store.write(key, { token: tokenSet('at-2', { refreshToken: 'rt-2' }) }, 3);
    expect(renewed.tombstone).toBeUndefined();
    expect(renewed.token?.refreshToken).toBe('rt-2');

    const cleared = await store.write(key, { tombstone }, 4);
    expect((await store.write(key, { tombstone: undefined }, cleared.generation)).tombstone).toBeUndefined();
  });

  it('preserves fields it does not know across writes', async () => {
    const store = await makeStore();
    const withExtra = { token: tokenSet('at-1'), futureField: { nested: [1, 2] } } as Pick<TokenRecord, 'token' | 'tombstone'>;
    await store.write(key, withExtra, 0);
    const next = await store.write(key, { token: tokenSet('at-2') }, 1);
    expect(next.futureField).toEqual({ nested: [1, 2] });
    expect((await store.read(key))?.futureField).toEqual({ nested: [1, 2] });
  });

  it('never lets a caller change what the store holds through a returned or passed object', async () => {
    const store = await makeStore();
    const token = tokenSet('at-1');
    const written = await store.write(key, { token }, 0);
    token.accessToken = 'mutated-input';
    written.token!.accessToken = 'mutated-output';
    const read = await store.read(key);
    read!.token!.accessToken = 'mutated-read';
    expect((await store.read(key))?.token?.accessToken).toBe('at-1');
  });

  it('deletes, and deleting nothing is fine', async () => {
    const store = await makeStore();
    await store.write(key, { token: tokenSet('at-1') }, 0);
    await store.delete(key);
    expect(await store.read(key)).toBeUndefined();
    await store.delete(key);
    expect((await store.write(key, { token: tokenSet('at-2') }, 0)).generation).toBe(1);
  });

  it('keeps records of different keys apart', async () => {
    const store = await makeStore();
    const other = storeKey(keyInput({ scopes: ['openid'] }));
    await store.write(key, { token: tokenSet('at-key') }, 0);
    await store.write(other, { token: tokenSet('at-other') }, 0);
    expect((await store.read(key))?.token?.accessToken).toBe('at-key');
    expect((await store.read(other))?.token?.accessToken).toBe('at-other');
  });

  it('lets one holder at a time into the lock, across 20 concurrent tasks', async () => {
    const store = await makeStore();
    let holders = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, task) => {
        const held = await store.lock(key);
        try {
          holders += 1;
          most = Math.max(most, holders);
          await sleep(task % 3);
          await new Promise((resolve) => setImmediate(resolve));
          holders -= 1;
          done += 1;
        } finally {
          await held.release();
        }
      }),
    );
    expect(done).toBe(20);
    expect(most).toBe(1);
  });

  it('times out with lock_timeout while another holds the lock, and a double release frees no one else', async () => {
    const store = await makeStore();
    const first = await store.lock(key);
    const second = store.lock(key);
    await first.release();
    const secondHeld = await second;
    await first.release();
    const third = store.lock(key, { waitMs: 150 });
    await expect(third).rejects.toBeInstanceOf(TokenError);
    await expect(third).rejects.toMatchObject({ code: 'lock_timeout', providerId: 'corp' });
    await secondHeld.release();
    await (await store.lock(key, { waitMs: 1_000 })).release();
  });

  it('gives up waiting when the caller aborts', async () => {
    const store = await makeStore();
    const held = await store.lock(key);
    const controller = new AbortController();
    const waiting = store.lock(key, { signal: controller.signal });
    controller.abort(new Error('caller went away'));
    await expect(waiting).rejects.toThrow('caller went away');
    await held.release();
  });
});

import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSafeFile, readSafeFileSync } from '../../src/adapters/safeFile.js';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { fileSource } from '../../src/adapters/subject-token/file.js';
import { createModelCache } from '../../src/plugin/modelCache.js';

/**
 * Issue 10.5: every file the plugin reads is stat'ed first (regular files only), opened non-blocking,
 * size-capped and read within a bound. A FIFO at the subject-token path, the store record or the lock path
 * hung the plugin of 661bc6b; a `/dev/zero` symlink as a record read hundreds of MB.
 */

let root: string;
const fifos: string[] = [];
const key = storeKey({ providerId: 'corp', issuer: 'https://idp.example.test', clientId: 'c', flow: 'client_credentials', scopes: ['a'] });

function mkfifo(file: string): string {
  execFileSync('mkfifo', [file]);
  fifos.push(file);
  return file;
}

/** Settles `promise`, or says it is still pending after `ms` (a hang is what is being ruled out). */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; pending?: true }> {
  return Promise.race([
    promise.then((value) => ({ value }), (error: unknown) => ({ error })),
    new Promise<{ pending: true }>((resolve) => setTimeout(() => resolve({ pending: true }), ms).unref()),
  ]);
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'safe-reads-'));
});
// A reader blocked in open() on a FIFO (the old code) is released by a writer: never leave a thread stuck.
afterEach(() => {
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    } catch {
      // already gone
    }
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the shared safe reader', () => {
  it('refuses a FIFO, a /dev/zero symlink and an oversized file; reads a regular one', async () => {
    const dir = path.join(root, 'reader');
    mkdirSync(dir);
    const fifo = mkfifo(path.join(dir, 'fifo'));
    symlinkSync('/dev/zero', path.join(dir, 'zero'));
    writeFileSync(path.join(dir, 'big'), Buffer.alloc(2048, 'a'));
    writeFileSync(path.join(dir, 'ok'), 'hello');
    expect(await settledWithin(readSafeFile(fifo, { maxBytes: 1024 }), 3_000)).toMatchObject({ error: { code: 'ENOTREG' } });
    await expect(readSafeFile(path.join(dir, 'zero'), { maxBytes: 1024 })).rejects.toMatchObject({ code: 'ENOTREG' });
    await expect(readSafeFile(path.join(dir, 'big'), { maxBytes: 1024 })).rejects.toMatchObject({ code: 'EFBIG' });
    expect(await readSafeFile(path.join(dir, 'ok'), { maxBytes: 1024 })).toBe('hello');
    expect(() => readSafeFileSync(fifo, { maxBytes: 1024 })).toThrow(/not a regular file/);
    expect(() => readSafeFileSync(path.join(dir, 'zero'), { maxBytes: 1024 })).toThrow(/not a regular file/);
    expect(readSafeFileSync(path.join(dir, 'ok'), { maxBytes: 1024 })).toBe('hello');
  });
});

describe('the readers of the plugin', () => {
  it('a FIFO as the subject-token file is refused at once, not waited on', async () => {
    const fifo = mkfifo(path.join(root, 'subject-fifo'));
    const outcome = await settledWithin(fileSource({ path: fifo }).read({ providerId: 'corp' }), 3_000);
    expect(outcome.pending).toBeUndefined();
    expect(String((outcome.error as Error).message)).toContain('is not a regular file');
  });

  it('a FIFO as the store record is a storage error naming the file, not a hang', async () => {
    const dir = path.join(root, 'store-fifo');
    mkdirSync(dir, { mode: 0o700 });
    mkfifo(path.join(dir, `${key.id}.json`));
    const outcome = await settledWithin(createFileStore({ dir }).read(key), 3_000);
    expect(outcome.pending).toBeUndefined();
    expect(outcome.error).toMatchObject({ code: 'storage', providerId: 'corp' });
    expect(String((outcome.error as Error).message)).toContain('not a regular file');
  });

  it('a /dev/zero symlink as the store record is refused without reading it', async () => {
    const dir = path.join(root, 'store-zero');
    mkdirSync(dir, { mode: 0o700 });
    symlinkSync('/dev/zero', path.join(dir, `${key.id}.json`));
    const outcome = await settledWithin(createFileStore({ dir }).read(key), 3_000);
    expect(outcome.error).toMatchObject({ code: 'storage' });
  });

  it('a FIFO at the lock path ends the lock attempt with an error within its wait bound', async () => {
    const dir = path.join(root, 'lock-fifo');
    mkdirSync(dir, { mode: 0o700 });
    mkfifo(path.join(dir, `${key.id}.lock`));
    const outcome = await settledWithin(createFileStore({ dir }).lock(key, { waitMs: 1_000 }), 4_000);
    expect(outcome.pending).toBeUndefined();
    expect(outcome.error).toMatchObject({ code: 'storage' });
  });

  it('a /dev/zero symlink as the model cache reads as no cache', async () => {
    const dir = path.join(root, 'models');
    mkdirSync(dir, { mode: 0o700 });
    const cache = createModelCache(dir);
    await cache.write('corp', 'http://127.0.0.1:9/v1', [{ id: 'm' }] as never);
    const [file] = (await import('node:fs')).readdirSync(dir);
    rmSync(path.join(dir, file!));
    symlinkSync('/dev/zero', path.join(dir, file!));
    expect(await settledWithin(cache.read('corp', 'http://127.0.0.1:9/v1'), 3_000)).toEqual({ value: undefined });
  });
});

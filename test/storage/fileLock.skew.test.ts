import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { assertEngineBuilt, keyInput, recordingLogger, runChild, tokenSet, withTempDir, type ChildRun } from './helpers.js';

/**
 * Issue 10.4: a clock step or cross-host skew must not break a live lock. Two real processes; the skewed one
 * gets its clock (Date.now, +60 s) or its host name through a preload (faketime is not available here).
 */

const input = keyInput({ flow: 'client_credentials', scopes: ['skew'] });
const key = storeKey(input);
const lockFile = (dir: string) => path.join(dir, `${key.id}.lock`);
const holderOf = async (dir: string) => JSON.parse(await readFile(lockFile(dir), 'utf8')) as { pid: number; host: string; nonce: string };
/** Short timings so the tests are quick; staleMs keeps 8 heartbeats of slack for a busy 2-core machine. */
const lock = { heartbeatMs: 50, staleMs: 400 };

async function stopChild(run: ChildRun): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}

async function outcome(run: ChildRun): Promise<string> {
  const { stdout, stderr } = await run.exited;
  return stdout.trim() || `no output: ${stderr}`;
}

describe('file lock under clock skew (issue 10.4)', () => {
  beforeAll(() => assertEngineBuilt());

  it('a waiter whose clock is 60 s ahead does not break the lock of a live holder on this host', async () => {
    await withTempDir(async (dir) => {
      const holder = runChild({ mode: 'hold', dir, key: input, lock });
      try {
        await holder.printed('locked');
        const waiter = runChild({ mode: 'try', dir, key: input, lock, waitMs: 1_500 }, 20_000, { clockOffsetMs: 60_000 });
        expect(await outcome(waiter)).toBe('lock_timeout');
        expect((await holderOf(dir)).pid).toBe(holder.child.pid);
      } finally {
        await stopChild(holder);
      }
    });
  });

  it('a waiter 60 s ahead does not break a heartbeating holder on another host; it takes over once the holder dies', async () => {
    await withTempDir(async (dir) => {
      const holder = runChild({ mode: 'hold', dir, key: input, lock }, 20_000, { hostname: 'other-host.invalid' });
      try {
        await holder.printed('locked');
        expect((await holderOf(dir)).host).toBe('other-host.invalid');
        const waiter = runChild({ mode: 'try', dir, key: input, lock, waitMs: 1_500 }, 20_000, { clockOffsetMs: 60_000 });
        expect(await outcome(waiter)).toBe('lock_timeout');
        expect((await holderOf(dir)).pid).toBe(holder.child.pid);

        // Dead, its heartbeat stops: after staleMs of unchanged mtime (our own observation) the lock is free.
        holder.child.kill('SIGKILL');
        await holder.exited;
        const logger = recordingLogger();
        const held = await createFileStore({ dir, lock, logger }).lock(key, { waitMs: 5_000 });
        expect(logger.entries).toContainEqual(
          expect.objectContaining({ event: 'lock_stale_broken', fields: expect.objectContaining({ reason: 'heartbeat_expired' }) }),
        );
        await held.release();
      } finally {
        await stopChild(holder);
      }
    });
  });

  it('a holder that learns it lost the lock writes nothing', async () => {
    await withTempDir(async (dir) => {
      const store = createFileStore({ dir, lock });
      const first = await store.write(key, { token: tokenSet('at-1', { refreshToken: 'rt-1' }) }, 0);
      const held = await store.lock(key);
      // Another process judged it abandoned and took it over.
      await rename(lockFile(dir), `${lockFile(dir)}.gone`);
      await writeFile(lockFile(dir), JSON.stringify({ pid: 1, host: 'other-host.invalid', nonce: 'theirs', startedAt: 0 }));
      await expect(store.write(key, { token: tokenSet('at-2', { refreshToken: 'rt-2' }) }, first.generation)).rejects.toMatchObject({
        code: 'lock_timeout',
      });
      expect(held.lost).toBe(true);
      expect((await store.read(key))?.token?.refreshToken).toBe('rt-1');
      await held.release();
      expect((await holderOf(dir)).nonce).toBe('theirs');
    });
  });
});

import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { assertEngineBuilt, keyInput, recordingLogger, runChild, withTempDir, type ChildRun } from './helpers.js';

const input = keyInput({ flow: 'client_credentials', scopes: ['models'] });
const key = storeKey(input);
const lockFile = (dir: string) => path.join(dir, `${key.id}.lock`);
const holderOf = async (dir: string) => JSON.parse(await readFile(lockFile(dir), 'utf8')) as { pid: number; host: string; nonce: string };

async function stopChild(run: ChildRun): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}

describe('file lock across processes', () => {
  beforeAll(() => {
    assertEngineBuilt();
  });

  it('never lets two processes hold the lock at once', async () => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'trace.log');
      await writeFile(out, '');
      const startAt = Date.now() + 600;
      const runs = Array.from({ length: 4 }, () => runChild({ mode: 'cycle', dir, key: input, out, rounds: 3, startAt }));
      const results = await Promise.all(runs.map((run) => run.exited));
      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });

      const lines = (await readFile(out, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(4 * 3 * 2);
      for (let i = 0; i < lines.length; i += 2) {
        const [startPid, startWord] = lines[i]!.split(' ');
        const [endPid, endWord] = lines[i + 1]!.split(' ');
        expect([startWord, endWord, endPid]).toEqual(['start', 'end', startPid]);
      }
      expect(new Set(lines.map((line) => line.split(' ')[0])).size).toBe(4);
      expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
    });
  });

  it('makes compare-and-swap writes from 4 processes lose no update', async () => {
    await withTempDir(async (dir) => {
      const startAt = Date.now() + 600;
      const runs = Array.from({ length: 4 }, () => runChild({ mode: 'cas', dir, key: input, rounds: 10, startAt }));
      const results = await Promise.all(runs.map((run) => run.exited));
      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
      const record = await createFileStore({ dir }).read(key);
      expect(record?.generation).toBe(40);
      expect((await readdir(dir)).sort()).toEqual([`${key.id}.json`]);
    });
  });

  it('times out while a live process holds the lock, then recovers at once when that process is SIGKILLed', async () => {
    await withTempDir(async (dir) => {
      const holder = runChild({ mode: 'hold', dir, key: input });
      try {
        await holder.printed('locked');
        const logger = recordingLogger();
        const store = createFileStore({ dir, logger });

        const refused = await store.lock(key, { waitMs: 200 }).catch((error: unknown) => error);
        expect(refused).toMatchObject({ code: 'lock_timeout', providerId: 'corp' });
        expect(String((refused as Error).message)).toContain(`pid ${holder.child.pid}`);
        expect((await holderOf(dir)).pid).toBe(holder.child.pid);

        holder.child.kill('SIGKILL');
        await holder.exited;
        const held = await store.lock(key, { waitMs: 5_000 });
        expect((await holderOf(dir)).pid).toBe(process.pid);
        expect(logger.entries).toContainEqual(
          expect.objectContaining({ event: 'lock_stale_broken', fields: expect.objectContaining({ reason: 'owner_dead', holderPid: holder.child.pid }) }),
        );
        await held.release();
        await expect(readFile(lockFile(dir))).rejects.toMatchObject({ code: 'ENOENT' });
      } finally {
        await stopChild(holder);
      }
    });
  });

  it('keeps a live holder’s lock fresh with its heartbeat, so it is not broken as stale', async () => {
    await withTempDir(async (dir) => {
      // Six heartbeats of slack, so a briefly busy machine does not stall the holder past staleMs.
      const lock = { heartbeatMs: 50, staleMs: 300 };
      const holder = runChild({ mode: 'hold', dir, key: input, lock });
      try {
        await holder.printed('locked');
        // Waiting 3 × staleMs: without heartbeats the holder's mtime would be judged abandoned long before.
        const refused = await createFileStore({ dir, lock }).lock(key, { waitMs: 900 }).catch((error: unknown) => error);
        expect(refused).toMatchObject({ code: 'lock_timeout' });
        expect((await holderOf(dir)).pid).toBe(holder.child.pid);
      } finally {
        await stopChild(holder);
      }
    });
  });
});

describe('file lock abandoned by another host', () => {
  it('breaks a lock whose heartbeat is old, even when its pid may be alive elsewhere', async () => {
    await withTempDir(async (dir) => {
      const foreign = { pid: process.pid, host: 'elsewhere.invalid', nonce: 'foreign-nonce', startedAt: Date.now() - 60_000 };
      await writeFile(lockFile(dir), JSON.stringify(foreign), { mode: 0o600 });
      const old = new Date(Date.now() - 60_000);
      await utimes(lockFile(dir), old, old);

      const logger = recordingLogger();
      // The heartbeat is judged by our own observation of it not changing, for staleMs.
      const held = await createFileStore({ dir, logger, lock: { heartbeatMs: 50, staleMs: 200 } }).lock(key, { waitMs: 2_000 });
      expect(await holderOf(dir)).toMatchObject({ pid: process.pid, host: os.hostname() });
      expect((await holderOf(dir)).nonce).not.toBe('foreign-nonce');
      expect(logger.entries).toContainEqual(
        expect.objectContaining({ event: 'lock_stale_broken', fields: expect.objectContaining({ reason: 'heartbeat_expired' }) }),
      );
      await held.release();
      expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
    });
  });

  it('leaves a fresh lock of another host alone and times out', async () => {
    await withTempDir(async (dir) => {
      const foreign = { pid: 1, host: 'elsewhere.invalid', nonce: 'foreign-nonce', startedAt: Date.now() };
      await writeFile(lockFile(dir), JSON.stringify(foreign), { mode: 0o600 });
      await expect(createFileStore({ dir }).lock(key, { waitMs: 200 })).rejects.toMatchObject({ code: 'lock_timeout' });
      expect(await holderOf(dir)).toEqual(foreign);
    });
  });

  it('release removes only its own lock file', async () => {
    await withTempDir(async (dir) => {
      const store = createFileStore({ dir });
      const held = await store.lock(key);
      const foreign = { pid: 1, host: 'elsewhere.invalid', nonce: 'foreign-nonce', startedAt: Date.now() };
      // As if our lock had been judged abandoned and another host took it over.
      await writeFile(lockFile(dir), JSON.stringify(foreign));
      await held.release();
      expect(await holderOf(dir)).toEqual(foreign);
    });
  });
});

/**
 * Several waiters breaking the lock a SIGKILLed holder left behind: exactly one of them may proceed at a
 * time. Each child appends `<pid> start` / `<pid> end` around its critical section; any interleaving in that
 * log is two holders at once (the bench saw it as 2 refresh grants and an invalid_grant from 4 processes).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/adapters/storage/fileStore.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { assertEngineBuilt, keyInput, recordingLogger, runChild, withTempDir } from './helpers.js';

const input = keyInput({ flow: 'client_credentials', scopes: ['models'] });
const key = storeKey(input);
const WAITERS = 8;
const TRIALS = 4;

/** Every pair of lines in the trace that is not one process's `start` followed by its own `end`. */
function overlaps(lines: string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const [startPid, startWord] = lines[i]!.split(' ');
    const [endPid, endWord] = (lines[i + 1] ?? '').split(' ');
    if (startWord !== 'start' || endWord !== 'end' || endPid !== startPid) found.push(`${lines[i]} | ${lines[i + 1]}`);
  }
  return found;
}

describe('file lock left by a SIGKILLed holder', () => {
  beforeAll(() => {
    assertEngineBuilt();
  });

  it(`lets exactly one of ${WAITERS} racing waiters break it and proceed at a time`, async () => {
    const bad: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      await withTempDir(async (dir) => {
        const holder = runChild({ mode: 'hold', dir, key: input });
        await holder.printed('locked');
        holder.child.kill('SIGKILL');
        await holder.exited;
        expect((await readdir(dir)).filter((name) => name.endsWith('.lock'))).toEqual([`${key.id}.lock`]);

        const out = path.join(dir, 'trace.log');
        await writeFile(out, '');
        // All waiters find the dead holder's lock at the same moment, so they really race to break it.
        const startAt = Date.now() + 900;
        const runs = Array.from({ length: WAITERS }, () => runChild({ mode: 'cycle', dir, key: input, out, rounds: 1, startAt }));
        const results = await Promise.all(runs.map((run) => run.exited));
        for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });

        const lines = (await readFile(out, 'utf8')).trim().split('\n');
        expect(lines).toHaveLength(WAITERS * 2);
        expect(new Set(lines.map((line) => line.split(' ')[0])).size).toBe(WAITERS);
        bad.push(...overlaps(lines).map((pair) => `trial ${trial}: ${pair}`));
        // Nothing left behind: no lock, no file moved aside, no break marker.
        expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
      });
    }
    expect(bad).toEqual([]);
  });
});

/** A pid that just exited, so it is dead on this host. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const ownerOf = (pid: number) => JSON.stringify({ pid, host: os.hostname(), nonce: `n-${pid}-${Math.random()}`, startedAt: Date.now() });

/** A dead holder's lock and, beside it, the claim a breaker of that lock would hold (as the lock names it). */
async function deadLockWithClaim(dir: string, claimOwner: string): Promise<string> {
  const lock = path.join(dir, `${key.id}.lock`);
  const text = ownerOf(deadPid());
  await writeFile(lock, text, { mode: 0o600 });
  const seen = await stat(lock);
  const id = createHash('sha256').update(`${seen.dev}:${seen.ino}:${seen.mtimeMs}:${text}`).digest('hex').slice(0, 16);
  const claim = `${lock}.break-${id}-1`;
  await writeFile(claim, claimOwner, { mode: 0o600 });
  return claim;
}

describe('a breaker of a dead lock', () => {
  it('that died mid-break (its claim left behind) does not wedge the lock: the next claim breaks it', async () => {
    await withTempDir(async (dir) => {
      await deadLockWithClaim(dir, ownerOf(deadPid()));
      const logger = recordingLogger();
      const held = await createFileStore({ dir, logger }).lock(key, { waitMs: 3_000 });
      expect(logger.entries).toContainEqual(expect.objectContaining({ event: 'lock_stale_broken', fields: expect.objectContaining({ reason: 'owner_dead' }) }));
      await held.release();
      expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
    });
  });

  it('that is alive is left to finish: the others only wait', async () => {
    await withTempDir(async (dir) => {
      // Our own pid: a live breaker on this host.
      const claim = await deadLockWithClaim(dir, ownerOf(process.pid));
      const refused = await createFileStore({ dir }).lock(key, { waitMs: 300 }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'lock_timeout' });
      expect((await readdir(dir)).sort()).toEqual([`${key.id}.lock`, path.basename(claim)].sort());
    });
  });

  it('killed mid-break leaves a claim and a moved-aside lock that the next store start collects once old', async () => {
    await withTempDir(async (dir) => {
      const lock = path.join(dir, `${key.id}.lock`);
      const old = new Date(Date.now() - 60 * 60_000);
      for (const name of [`${lock}.break-0123456789abcdef-1`, `${lock}.stale-4242-a1b2c3d4e5f6`]) {
        await writeFile(name, ownerOf(deadPid()), { mode: 0o600 });
        await utimes(name, old, old);
      }
      const recent = `${lock}.break-fedcba9876543210-1`;
      await writeFile(recent, ownerOf(process.pid), { mode: 0o600 });

      // A store prepares its directory (and collects) on its first write.
      await createFileStore({ dir }).write(key, { token: { accessToken: 'at', tokenType: 'Bearer', issuedAt: 1, expiresAt: 2 } }, 0);
      expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([path.basename(recent)]);
    });
  });
});

/**
 * Several waiters breaking the lock a SIGKILLed holder left behind: exactly one of them may proceed at a
 * time. Each child appends `<pid> start` / `<pid> end` around its critical section; any interleaving in that
 * log is two holders at once (the bench saw it as 2 refresh grants and an invalid_grant from 4 processes).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { assertEngineBuilt, keyInput, runChild, withTempDir } from './helpers.js';

const input = keyInput({ flow: 'client_credentials', scopes: ['models'] });
const key = storeKey(input);
const WAITERS = 8;
const TRIALS = 4;

/** The critical sections in `out`, as [pid, start line, end line]; throws on any overlap. */
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

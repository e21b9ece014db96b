import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, open, rename, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TokenError } from '../../errors.js';
import { readSafeFileContent } from '../safeFile.js';
import { silentLogger, type Logger } from '../logger.js';
import { KeyedMutex, type Release } from './keyedMutex.js';
import type { LockHandle, LockOptions } from './types.js';

export interface FileLockOptions {
  /** How often a holder touches the lock file's mtime. Default 5000. */
  heartbeatMs?: number;
  /** A lock whose mtime is older than this is abandoned. Default 3 × heartbeatMs; at least 2 × heartbeatMs. */
  staleMs?: number;
  /** Upper bound on the wait for another holder. Default 15000 (anchors-lifecycle §C2). */
  waitMs?: number;
  /** Mean poll interval while another process holds the lock; each sleep is jittered ±50 %. Default 50. */
  pollMs?: number;
}

export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_LOCK_WAIT_MS = 15_000;
export const DEFAULT_POLL_MS = 50;

/** What a lock file holds: enough to judge, from another process, whether its holder is still there. */
export interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
  startedAt: number;
}

export interface AcquireFileLock {
  /** The lock file, e.g. `<dir>/<key.id>.lock`. */
  file: string;
  providerId: string;
  options?: FileLockOptions;
  /** Per-call overrides (`waitMs`, `signal`). */
  call?: LockOptions;
  logger?: Logger;
  /** Creates the lock's directory when it is missing. */
  ensureDir?: () => Promise<void>;
}

/** Lock files seen through one open handle, so the stat and the text belong to the same file. */
interface Seen {
  stat: Stats;
  text: string;
  owner: LockOwner | undefined;
}

/**
 * Same-process callers queue here first: they wait in order without polling the file, and one holder's
 * release can never free another's (each file lock also carries its own nonce).
 */
const inProcess = new KeyedMutex();

const errnoOf = (error: unknown): string | undefined =>
  error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : undefined;

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object') return undefined;
    const { pid, host, nonce, startedAt } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof nonce !== 'string' || typeof startedAt !== 'number') {
      return undefined;
    }
    return { pid, host, nonce, startedAt };
  } catch {
    return undefined;
  }
}

/** A lock file holds one small JSON object; a FIFO or a huge file at the lock path is refused, not read. */
const MAX_LOCK_BYTES = 4096;
const LOOK_TIMEOUT_MS = 5_000;

async function look(file: string): Promise<Seen | undefined> {
  try {
    const { stats, bytes } = await readSafeFileContent(file, { maxBytes: MAX_LOCK_BYTES, timeoutMs: LOOK_TIMEOUT_MS });
    const text = bytes.toString('utf8');
    return { stat: stats, text, owner: parseOwner(text) };
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** `kill(pid, 0)` probes without signalling: ESRCH means gone, EPERM means alive under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) !== 'ESRCH';
  }
}

/**
 * Why the lock is abandoned, or undefined while its holder may still be working. Clocks are never compared:
 * another host's clock (or ours after a step) says nothing about how old a heartbeat is. A lock is abandoned
 * when its holder is a dead pid on this host, or, for a holder elsewhere, when its heartbeat (the file's
 * mtime, whatever clock wrote it) has not changed for `staleMs` of our own monotonic observation. A live pid
 * on this host is trusted.
 */
function staleness(seen: Seen, unchangedForMs: number, staleMs: number): string | undefined {
  if (seen.owner && seen.owner.host === os.hostname()) return processAlive(seen.owner.pid) ? undefined : 'owner_dead';
  return unchangedForMs >= staleMs ? 'heartbeat_expired' : undefined;
}

/** What must stay the same for a lock to count as unchanged: the file, its owner and its heartbeat. */
const signatureOf = (seen: Seen) => `${seen.stat.dev}:${seen.stat.ino}:${seen.stat.mtimeMs}:${seen.text}`;

const sameFile = (a: Seen, b: Seen) => signatureOf(a) === signatureOf(b);

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function storageError(providerId: string, action: string, file: string, error: unknown): TokenError {
  return new TokenError({
    code: 'storage',
    providerId,
    message: `could not ${action} the token lock ${file} (${errnoOf(error) ?? 'unknown error'})`,
    fix: `make sure ${path.dirname(file)} exists, belongs to the current user and is writable (mode 0700)`,
    cause: error,
  });
}

function resolveTiming(options: FileLockOptions | undefined, call: LockOptions | undefined) {
  const heartbeatMs = options?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleMs = options?.staleMs ?? 3 * heartbeatMs;
  const waitMs = call?.waitMs ?? options?.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const pollMs = options?.pollMs ?? DEFAULT_POLL_MS;
  if (!(heartbeatMs > 0) || !(pollMs > 0) || !(waitMs >= 0)) {
    throw new RangeError('lock heartbeatMs and pollMs must be > 0 and waitMs >= 0');
  }
  // With less margin a busy event loop could delay a heartbeat long enough for a live lock to look abandoned.
  if (!(staleMs >= 2 * heartbeatMs)) throw new RangeError('lock staleMs must be at least 2 × heartbeatMs');
  return { heartbeatMs, staleMs, waitMs, pollMs };
}

/**
 * Takes the cross-process lock in `file`: exclusive create, owner info inside, a heartbeat on its mtime,
 * recovery of abandoned locks (dead pid on this host, or a heartbeat unchanged for `staleMs`) by exactly one
 * waiter (see breakStale), and a bounded wait that ends in a `lock_timeout` TokenError — never in an unlocked run.
 * @see /work/shared/reference/anchors-lifecycle.md §C2 (three-level single flight)
 */
export async function acquireFileLock(input: AcquireFileLock): Promise<LockHandle> {
  const { file, providerId, call } = input;
  const logger = input.logger ?? silentLogger;
  const timing = resolveTiming(input.options, call);
  const signal = call?.signal;
  const started = performance.now();
  const deadline = started + timing.waitMs;
  let holder: LockOwner | undefined;
  // Each file as we last saw it (the lock, break claims), and since when (our monotonic clock) it has looked
  // exactly like that.
  const observed = new Map<string, { signature: string; since: number }>();
  const unchangedFor = (name: string, seen: Seen): number => {
    const signature = signatureOf(seen);
    let seenSince = observed.get(name);
    if (seenSince?.signature !== signature) observed.set(name, (seenSince = { signature, since: performance.now() }));
    return performance.now() - seenSince.since;
  };

  const timeout = () => {
    const waitedMs = Math.round(performance.now() - started);
    logger.warn('lock_timeout', { providerId, waitedMs, holderPid: holder?.pid, holderHost: holder?.host });
    const by = holder ? ` by pid ${holder.pid} on ${holder.host}` : ' in this process';
    return new TokenError({
      code: 'lock_timeout',
      providerId,
      message: `the token lock was still held${by} after ${timing.waitMs} ms`,
      fix: `retry shortly; if no other process is refreshing this provider, remove ${file}`,
    });
  };

  const releaseInProcess = await inProcess.acquire(path.resolve(file), { waitMs: timing.waitMs, signal, timeoutError: timeout });
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(16).toString('hex'), startedAt: Date.now() };
  try {
    let attempts = 0;
    for (;;) {
      signal?.throwIfAborted();
      attempts += 1;
      if (await tryCreate(file, owner, providerId, input.ensureDir)) break;
      const seen = await look(file).catch((error) => {
        throw storageError(providerId, 'read', file, error);
      });
      if (seen) {
        holder = seen.owner;
        const reason = staleness(seen, unchangedFor(file, seen), timing.staleMs);
        if (reason && (await breakStale({ file, judged: seen, reason, owner, staleMs: timing.staleMs, unchangedFor, providerId, logger }))) {
          observed.clear();
          continue;
        }
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw timeout();
      // A vanished file is retried at once; a held one is polled with jitter so waiters do not march in step.
      if (seen) await sleep(Math.min(remaining, timing.pollMs * (0.5 + Math.random())), signal);
    }
    logger.debug('lock_acquired', { providerId, waitedMs: Math.round(performance.now() - started), attempts });
  } catch (error) {
    releaseInProcess();
    throw error;
  }
  return holdLock(file, owner, timing.heartbeatMs, providerId, logger, releaseInProcess);
}

async function tryCreate(file: string, owner: LockOwner, providerId: string, ensureDir?: () => Promise<void>): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let handle;
    try {
      handle = await open(file, 'wx', 0o600);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT' && ensureDir && attempt === 0) {
        await ensureDir();
        continue;
      }
      throw storageError(providerId, 'create', file, error);
    }
    try {
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return true;
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(file).catch(() => {});
      throw storageError(providerId, 'write', file, error);
    }
  }
}

/** How many abandoned break claims (their breakers died mid-break) one stale lock may pile up before we give up. */
const MAX_BREAK_CLAIMS = 8;

interface BreakStale {
  file: string;
  /** The lock as it was judged abandoned. */
  judged: Seen;
  reason: string;
  owner: LockOwner;
  staleMs: number;
  unchangedFor: (name: string, seen: Seen) => number;
  providerId: string;
  logger: Logger;
}

/**
 * Breaks the abandoned lock `judged`, or leaves it to the one waiter that already is. A path can only be
 * renamed, not compared-and-swapped, so several waiters that each judged the same dead lock and each moved
 * "the lock" aside would move the lock one of them had just created in its place: two holders. Instead the
 * right to break this very lock (named by its file, owner and heartbeat) is claimed by an exclusive create,
 * which exactly one waiter wins; the winner checks the path still holds the judged lock and only then moves it
 * aside (and verifies what moved). Nobody else touches the path, so no live lock is ever moved. A claim whose
 * breaker died (dead pid here, or unchanged for `staleMs` of our observation) is skipped for the next one.
 * Returns whether the lock path was freed (try to create at once) rather than still taken.
 */
async function breakStale(input: BreakStale): Promise<boolean> {
  const { file, judged, reason, providerId, logger } = input;
  const id = createHash('sha256').update(signatureOf(judged)).digest('hex').slice(0, 16);
  const claims: string[] = [];
  let mine: string | undefined;
  for (let n = 1; n <= MAX_BREAK_CLAIMS && !mine; n++) {
    const claim = `${file}.break-${id}-${n}`;
    claims.push(claim);
    if (await tryClaim(claim, input.owner, providerId)) mine = claim;
    else {
      const other = await look(claim).catch(() => undefined);
      // Gone already: its breaker finished (the lock is no longer the judged one) or is finishing.
      if (!other) return false;
      if (!staleness(other, input.unchangedFor(claim, other), input.staleMs)) return false;
    }
  }
  if (!mine) return false;
  try {
    const now = await look(file).catch(() => undefined);
    if (!now) return true;
    // Changed since judged (broken and re-taken, or a heartbeat landed): not ours to break.
    if (!sameFile(now, judged) || (reason === 'owner_dead' && staleness(now, 0, Infinity) !== 'owner_dead')) return false;
    const aside = `${file}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return true;
      throw storageError(providerId, 'move aside', file, error);
    }
    const moved = await look(aside).catch(() => undefined);
    if (moved && sameFile(moved, judged)) {
      await unlink(aside).catch(() => {});
      logger.info('lock_stale_broken', { providerId, reason, holderPid: judged.owner?.pid, holderHost: judged.owner?.host });
      return true;
    }
    // Only the judged lock's own holder, come back to life, can have changed the path since the check above.
    await putBack(aside, file, () => logger.warn('lock_break_race', { providerId }));
    return false;
  } finally {
    // The claims name a lock that is gone or not abandoned: none of them will ever be needed again.
    await Promise.all(claims.map((claim) => unlink(claim).catch(() => {})));
  }
}

/** Exclusive create of a break claim holding our owner info (so a claim left by a crash is recognised). */
async function tryClaim(claim: string, owner: LockOwner, providerId: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(claim, 'wx', 0o600);
  } catch (error) {
    // ENOENT: the directory went away with the lock in it; the next attempt creates both.
    if (errnoOf(error) === 'EEXIST' || errnoOf(error) === 'ENOENT') return false;
    throw storageError(providerId, 'claim the break of', claim, error);
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close().catch(() => {});
  }
  return true;
}

/**
 * Returns a file moved aside to its place. `link`, unlike rename, never replaces a file created there in the
 * meantime (`onTaken` is told); rename is the fallback where the file system has no hard links.
 */
export async function putBack(aside: string, file: string, onTaken: () => void): Promise<void> {
  try {
    await link(aside, file);
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') onTaken();
    else {
      await rename(aside, file).catch(() => {});
      return;
    }
  }
  await unlink(aside).catch(() => {});
}

function holdLock(
  file: string,
  owner: LockOwner,
  heartbeatMs: number,
  providerId: string,
  logger: Logger,
  releaseInProcess: Release,
): LockHandle {
  let busy = false;
  let lost = false;
  const markLost = () => {
    if (lost) return;
    lost = true;
    clearInterval(heartbeat);
    logger.warn('lock_lost', { providerId });
  };
  const beat = async () => {
    if (busy || lost) return;
    busy = true;
    try {
      const seen = await look(file);
      if (seen?.owner?.nonce !== owner.nonce) {
        markLost();
        return;
      }
      const now = new Date();
      await utimes(file, now, now);
    } catch (error) {
      logger.debug('lock_heartbeat_failed', { providerId, errno: errnoOf(error) });
    } finally {
      busy = false;
    }
  };
  const heartbeat = setInterval(() => void beat(), heartbeatMs);
  // The heartbeat must never keep a process alive on its own.
  heartbeat.unref?.();

  let released: Promise<void> | undefined;
  return {
    get lost() {
      return lost;
    },
    async verify() {
      if (lost || released) return false;
      const seen = await look(file).catch(() => undefined);
      if (seen?.owner?.nonce !== owner.nonce) markLost();
      return !lost;
    },
    release() {
      released ??= (async () => {
        clearInterval(heartbeat);
        try {
          const seen = await look(file);
          if (seen?.owner?.nonce === owner.nonce) await unlink(file);
        } catch (error) {
          // Left behind, the file is recovered as abandoned (dead pid, then old heartbeat); throwing here
          // would only hide the caller's own error in its finally block.
          if (errnoOf(error) !== 'ENOENT') logger.warn('lock_release_failed', { providerId, errno: errnoOf(error) });
        } finally {
          releaseInProcess();
        }
      })();
      return released;
    },
  };
}

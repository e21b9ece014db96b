import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TokenError } from '../../errors.js';
import { readSafeFile } from '../safeFile.js';
import { silentLogger, type Logger } from '../logger.js';
import { APP_DIR } from './cacheDir.js';
import { acquireFileLock, putBack, type FileLockOptions } from './fileLock.js';
import { nextRecord, recordProblem } from './record.js';
import { GenerationConflict, type LockHandle, type LockOptions, type StoreKey, type TokenRecord, type TokenStore } from './types.js';

export interface FileStoreOptions {
  /** The directory for records and locks, e.g. `defaultCacheDir()`. Created 0700. */
  dir: string;
  logger?: Logger;
  lock?: FileLockOptions;
  /** Wall clock for `updatedAt` and the name of moved-aside corrupt files. */
  now?: () => number;
}

const SAFE_ID = /^[A-Za-z0-9._-]+$/;
/** A record holds one token set: anything near this size is not one of ours. */
export const MAX_RECORD_BYTES = 256 * 1024;
const READ_TIMEOUT_MS = 5_000;
const readRecordText = (file: string) => readSafeFile(file, { maxBytes: MAX_RECORD_BYTES, timeoutMs: READ_TIMEOUT_MS });
const isWindows = process.platform === 'win32';

const errnoOf = (error: unknown): string | undefined =>
  error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : undefined;

/**
 * A token store of one JSON file per key (`<dir>/<key.id>.json`), written atomically (temp file in the same
 * directory, fsync, rename) with mode 0600 in a 0700 directory.
 *
 * - `read`: a missing file is no record; a corrupt file (bad JSON, wrong schema, another key's record) is
 *   moved aside to `<name>.corrupt-<timestamp>` with a `store_record_corrupt` warning and reads as no record;
 *   any other I/O failure is a `storage` TokenError, never "empty".
 * - `write`: compare-and-swap on `generation`, serialised across processes by a short write lock
 *   (`<key.id>.write.lock`), so the check and the rename are one step even for callers that hold no `lock()`.
 *   `next.token === undefined` keeps the stored token: nothing ever blanks stored credentials; only `delete`
 *   removes them. A new token clears the tombstone unless `next` sets one; `tombstone: undefined` clears it.
 *   Unknown top-level fields of the stored record are preserved.
 * - `lock`: the cross-process lock `<key.id>.lock` (see `acquireFileLock`).
 */
export function createFileStore(options: FileStoreOptions): TokenStore {
  const dir = path.resolve(options.dir);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  let dirReady: Promise<void> | undefined;
  /** The `lock()`s this store holds now, by key id: a write under a lost one is refused. */
  const heldLocks = new Map<string, LockHandle>();

  const fail = (providerId: string, action: string, file: string, error: unknown) => {
    const code = errnoOf(error);
    const odd = code === 'ENOTREG' || code === 'EFBIG' || code === 'ETIMEDOUT';
    return new TokenError({
      code: 'storage',
      providerId,
      message: odd
        ? `could not ${action} the token store file ${file}: ${code === 'ENOTREG' ? 'it is not a regular file' : code === 'EFBIG' ? `it is larger than ${MAX_RECORD_BYTES} bytes` : 'the read did not finish in time'}`
        : `could not ${action} the token store file ${file} (${code ?? 'unknown error'})`,
      fix: odd
        ? `remove ${file} (records are regular files the plugin writes itself); you may have to log in again`
        : `make sure ${dir} belongs to the current user and is readable and writable (mode 0700), or configure another cache directory`,
      cause: error,
    });
  };

  /** Memoised; `again` redoes it, for a directory removed while the store was in use. */
  const ensureDir = (providerId: string, again = false) => {
    if (again) dirReady = undefined;
    dirReady ??= prepareDir(dir, logger).then(() => collectGarbage(dir, now(), logger)).catch((error: unknown) => {
      dirReady = undefined;
      if (error instanceof UnsafeStoreDir) throw new TokenError({ code: 'storage', providerId, message: error.message, fix: error.fix });
      throw fail(providerId, 'create the directory of', dir, error);
    });
    return dirReady;
  };

  const fileOf = (key: StoreKey, suffix: string) => {
    if (!SAFE_ID.test(key.id)) {
      throw new TokenError({
        code: 'config',
        providerId: key.providerId,
        message: 'the store key id is not a safe file name',
        fix: 'build store keys with storeKey()',
      });
    }
    return path.join(dir, `${key.id}${suffix}`);
  };

  const writeLock = (key: StoreKey) =>
    acquireFileLock({
      file: fileOf(key, '.write.lock'),
      providerId: key.providerId,
      options: options.lock,
      logger,
      ensureDir: () => ensureDir(key.providerId, true),
    });

  /** Moves a corrupt record aside; true when the file that moved is the one judged corrupt. */
  const quarantine = async (key: StoreKey, file: string, text: string, reason: string): Promise<boolean> => {
    const aside = `${file}.corrupt-${now()}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return true;
      throw fail(key.providerId, 'move aside', file, error);
    }
    const moved = await readRecordText(aside).catch(() => undefined);
    if (moved === text) {
      logger.warn('store_record_corrupt', { providerId: key.providerId, file: path.basename(file), movedTo: path.basename(aside), reason });
      return true;
    }
    // A writer replaced the file between our read and the move: put its record back (unless an even newer
    // one is already there) and read again.
    await putBack(aside, file, () => {});
    return false;
  };

  const readRecord = async (key: StoreKey): Promise<TokenRecord | undefined> => {
    const file = fileOf(key, '.json');
    for (let attempt = 0; attempt < 3; attempt++) {
      let text: string;
      try {
        text = await readRecordText(file);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') return undefined;
        throw fail(key.providerId, 'read', file, error);
      }
      let value: unknown;
      let reason: string | undefined;
      try {
        value = JSON.parse(text);
        reason = recordProblem(value, key.id);
      } catch {
        // The parser's message can quote the file, and the file holds tokens.
        reason = 'invalid JSON';
      }
      if (reason === undefined) return value as TokenRecord;
      if (await quarantine(key, file, text, reason)) return undefined;
    }
    return undefined;
  };

  const writeAtomic = async (key: StoreKey, file: string, data: string) => {
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let handle;
    try {
      handle = await open(temp, 'wx', 0o600);
      await handle.writeFile(data);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await renameReplacing(temp, file);
    } catch (error) {
      await handle?.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw fail(key.providerId, 'write', file, error);
    }
    await syncDir(dir);
  };

  return {
    location: dir,

    read: (key) => readRecord(key),

    async write(key, next, expectedGeneration) {
      if (!Number.isSafeInteger(expectedGeneration) || expectedGeneration < 0) {
        throw new RangeError('expectedGeneration must be a non-negative integer');
      }
      await ensureDir(key.providerId);
      const file = fileOf(key, '.json');
      const held = await writeLock(key);
      try {
        const holding = heldLocks.get(key.id);
        if (holding?.verify && !(await holding.verify())) {
          // Another process judged our lock abandoned and took it: it may be spending the same refresh token,
          // and what we would write could overwrite what it learns. The caller retries and adopts its record.
          throw new TokenError({
            code: 'lock_timeout',
            providerId: key.providerId,
            message: 'the token lock was taken over by another process while this one held it, so nothing was written',
            fix: 'retry; if this repeats, give every process sharing this store the same lock heartbeatMs and staleMs',
          });
        }
        const current = await readRecord(key);
        const actual = current?.generation ?? 0;
        if (actual !== expectedGeneration) throw new GenerationConflict(key.id, expectedGeneration, actual);
        const record = nextRecord(key, current, next, now());
        await writeAtomic(key, file, `${JSON.stringify(record, null, 2)}\n`);
        return record;
      } finally {
        await held.release();
      }
    },

    async delete(key) {
      const file = fileOf(key, '.json');
      // Under the write lock, so a compare-and-swap that read the old generation cannot resurrect the record.
      await ensureDir(key.providerId);
      const held = await writeLock(key);
      try {
        await unlink(file);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw fail(key.providerId, 'delete', file, error);
      }
      try {
        // Copies of the record a logout must not leave behind: temp files of a writer killed mid-write and
        // quarantined corrupt records. Under the write lock, so no live writer's temp file is among them.
        await removeCopies(dir, (name) => isCopyOf(name, `${key.id}.json`), logger);
      } finally {
        await held.release();
      }
    },

    async lock(key: StoreKey, call?: LockOptions): Promise<LockHandle> {
      const handle = await acquireFileLock({
        file: fileOf(key, '.lock'),
        providerId: key.providerId,
        options: options.lock,
        call,
        logger,
        ensureDir: () => ensureDir(key.providerId, true),
      });
      heldLocks.set(key.id, handle);
      return {
        get lost() {
          return handle.lost;
        },
        verify: () => handle.verify?.() ?? Promise.resolve(true),
        release: async () => {
          if (heldLocks.get(key.id) === handle) heldLocks.delete(key.id);
          await handle.release();
        },
      };
    },
  };
}

/**
 * Creates the directory 0700, and checks the directories the tokens live in: records hold refresh tokens,
 * and another local user who owns, can write, or has swapped (symlink) the store directory or the app
 * directory above it could list providers, remove a record (rename needs only write access to the directory)
 * or have us write tokens somewhere they can read. Those are refused, with how to fix it; an existing store
 * directory that is only group/world-readable is tightened to 0700.
 */
async function prepareDir(dir: string, logger: Logger): Promise<void> {
  if (isWindows) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return; // POSIX modes mean nothing there; the profile directory's ACL protects it.
  }
  const parent = path.dirname(dir);
  // The app directory above the store, when it is ours by name, is checked before anything is made in it.
  if (path.basename(parent) === APP_DIR) {
    await mkdir(parent, { recursive: true, mode: 0o700 });
    // Above it, a directory every user can write must be sticky (like /tmp), or they could rename ours away.
    // (Group-writable is left alone: with per-user groups, umask 002 makes ~/.cache 0775.)
    const above = await stat(path.dirname(parent));
    if ((above.mode & 0o002) !== 0 && (above.mode & 0o1000) === 0) {
      throw unsafeDir(path.dirname(parent), `is writable by other users without the sticky bit (mode ${(above.mode & 0o7777).toString(8)})`);
    }
    await checkOwnDir(parent, logger);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await checkOwnDir(dir, logger);
}

/** A plain directory of this user that nobody else can write; only group/world-readable is tightened. */
async function checkOwnDir(dir: string, logger: Logger): Promise<void> {
  const uid = process.getuid?.();
  const stats = await lstat(dir);
  const problem = stats.isSymbolicLink()
    ? 'is a symbolic link'
    : !stats.isDirectory()
      ? 'is not a directory'
      : uid !== undefined && stats.uid !== uid
        ? `belongs to another user (uid ${stats.uid})`
        : (stats.mode & 0o022) !== 0
          ? `is writable by ${stats.mode & 0o002 ? 'every user' : 'its group'} (mode ${(stats.mode & 0o777).toString(8)})`
          : undefined;
  if (problem) throw unsafeDir(dir, problem);
  if ((stats.mode & 0o077) !== 0) {
    await chmod(dir, 0o700);
    logger.warn('store_dir_mode_tightened', { dir, from: (stats.mode & 0o777).toString(8) });
  }
}

class UnsafeStoreDir extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

function unsafeDir(dir: string, problem: string): UnsafeStoreDir {
  return new UnsafeStoreDir(
    `refusing the token store: ${dir} ${problem}, so another local user could read, replace or remove tokens there`,
    `remove ${dir} (or, if it is yours, \`chmod 700 ${dir}\`) and start again, or point XDG_CACHE_HOME at a directory only you can write`,
  );
}

/** A temp file (`.<record>.<pid>.<hex>.tmp`) or a quarantined copy (`<record>.corrupt-<time>`) of a record. */
function isCopyOf(name: string, record: string): boolean {
  return (name.startsWith(`.${record}.`) && name.endsWith('.tmp')) || name.startsWith(`${record}.corrupt-`);
}

const TEMP_GARBAGE_AGE_MS = 10 * 60_000;
/** Quarantined records are kept a while for diagnosis (they may hold the last good refresh token). */
const CORRUPT_GARBAGE_AGE_MS = 7 * 24 * 60 * 60_000;

async function removeCopies(dir: string, match: (name: string) => boolean, logger: Logger, olderThan?: (name: string, mtimeMs: number) => boolean): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  let removed = 0;
  for (const name of names.filter(match)) {
    const file = path.join(dir, name);
    try {
      const stats = await lstat(file);
      if (!stats.isFile()) continue;
      if (olderThan && !olderThan(name, stats.mtimeMs)) continue;
      await unlink(file);
      removed += 1;
    } catch {
      // Gone already, or not ours to remove: the next start tries again.
    }
  }
  if (removed) logger.info('store_copies_removed', { count: removed });
}

/**
 * At start: temp files left by a writer killed mid-write, quarantined records past their keeping time, and
 * what a lock breaker killed mid-break left (its break claim, the dead lock it had moved aside; both only
 * owner info, and each needed for milliseconds).
 */
async function collectGarbage(dir: string, now: number, logger: Logger): Promise<void> {
  const isTemp = (name: string) =>
    (name.startsWith('.') && name.endsWith('.tmp') && name.includes('.json.')) || /\.lock\.(break|stale)-[\w-]+$/.test(name);
  const isCorrupt = (name: string) => /\.json\.corrupt-\d+$/.test(name);
  await removeCopies(dir, (name) => isTemp(name) || isCorrupt(name), logger, (name, mtimeMs) =>
    now - mtimeMs > (isTemp(name) ? TEMP_GARBAGE_AGE_MS : CORRUPT_GARBAGE_AGE_MS),
  );
}

/** Windows refuses to replace a file another process has open for a moment; retry a few times there. */
async function renameReplacing(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errnoOf(error);
      if (!isWindows || attempt >= 4 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  }
}

/** Makes the rename itself durable; best effort, as some platforms cannot open a directory. */
async function syncDir(dir: string): Promise<void> {
  if (isWindows) return;
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // The data itself is already fsynced; only the directory entry's durability is at stake.
  } finally {
    await handle?.close().catch(() => {});
  }
}

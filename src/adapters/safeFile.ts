import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/**
 * The one way this package reads a file it did not just write: stat first (a regular file only, so a FIFO,
 * a socket or a `/dev/zero` symlink is refused before anything blocks or streams), open non-blocking (a FIFO
 * swapped in after the stat cannot hang the open), check that the opened file is the one stat'ed, read at
 * most `maxBytes`, and give up after `timeoutMs`. Errors carry `code`: the errno of the failed call, or
 * `ENOTREG` (not a regular file), `EFBIG` (over the cap), `ETIMEDOUT` (the bound passed).
 */

export interface SafeReadOptions {
  /** The largest file accepted; a larger one is refused (EFBIG), never read in part. */
  maxBytes: number;
  /** Upper bound on the whole read. Default 5000. Async reads only. */
  timeoutMs?: number;
}

export const DEFAULT_SAFE_READ_TIMEOUT_MS = 5_000;

// O_NONBLOCK is what keeps a FIFO's open from waiting for a writer; Windows has neither FIFOs nor the flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export class SafeReadError extends Error {
  override readonly name = 'SafeReadError';
  constructor(
    readonly code: 'ENOTREG' | 'EFBIG' | 'ETIMEDOUT',
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

function checkStat(file: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new SafeReadError('ENOTREG', file, `${file} is not a regular file`);
  if (stats.size > maxBytes) throw new SafeReadError('EFBIG', file, `${file} is larger than ${maxBytes} bytes`);
}

const sameFile = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev;

/** Replaced between our stat and our open: records and locks are swapped by rename all the time. */
const MAX_REPLACED_RETRIES = 3;

async function readBounded(file: string, maxBytes: number, opened: { close?: () => Promise<void> }): Promise<SafeFileContent> {
  let handle;
  let first: Stats;
  for (let attempt = 0; ; attempt++) {
    const named = await stat(file);
    checkStat(file, named, maxBytes);
    handle = await open(file, OPEN_FLAGS);
    const current = handle;
    opened.close = () => current.close();
    first = await handle.stat();
    checkStat(file, first, maxBytes);
    if (sameFile(named, first)) break;
    await handle.close().catch(() => {});
    opened.close = undefined;
    if (attempt >= MAX_REPLACED_RETRIES) throw new SafeReadError('ENOTREG', file, `${file} kept being replaced while being opened`);
  }
  // Room for the cap plus one byte, not for the stat'ed size: a file still being written (a lock whose owner
  // line lands after our stat) may have grown, and only more than the cap is an error.
  const buffer = Buffer.alloc(maxBytes + 1);
  let total = 0;
  while (total < buffer.length) {
    const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  if (total > maxBytes) throw new SafeReadError('EFBIG', file, `${file} is larger than ${maxBytes} bytes`);
  return { stats: first, bytes: buffer.subarray(0, total) };
}

export interface SafeFileContent {
  /** The stat of the very file read (through its handle). */
  stats: Stats;
  bytes: Buffer;
}

/** The file's bytes and its stat, under the rules above. */
export async function readSafeFileContent(file: string, options: SafeReadOptions): Promise<SafeFileContent> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SAFE_READ_TIMEOUT_MS;
  const opened: { close?: () => Promise<void> } = {};
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SafeReadError('ETIMEDOUT', file, `reading ${file} took longer than ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([readBounded(file, options.maxBytes, opened), bound]);
  } finally {
    clearTimeout(timer);
    await opened.close?.().catch(() => {});
  }
}

/** The file as UTF-8 text, under the rules above. */
export async function readSafeFile(file: string, options: SafeReadOptions): Promise<string> {
  return (await readSafeFileContent(file, options)).bytes.toString('utf8');
}

/** The synchronous form, for config-time reads (a private key); no time bound, but nothing here can block on a FIFO. */
export function readSafeFileSync(file: string, options: Omit<SafeReadOptions, 'timeoutMs'>): string {
  const named = statSync(file);
  checkStat(file, named, options.maxBytes);
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    checkStat(file, stats, options.maxBytes);
    if (!sameFile(named, stats)) throw new SafeReadError('ENOTREG', file, `${file} changed while being opened`);
    const buffer = Buffer.alloc(options.maxBytes + 1);
    let total = 0;
    while (total < buffer.length) {
      const read = readSync(fd, buffer, total, buffer.length - total, total);
      if (read === 0) break;
      total += read;
    }
    if (total > options.maxBytes) throw new SafeReadError('EFBIG', file, `${file} is larger than ${options.maxBytes} bytes`);
    return buffer.subarray(0, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

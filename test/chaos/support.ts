import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BROWSER_SCRIPT } from '../../lab/index.mjs';

/**
 * The chaos suite's shared parts: child processes built from dist/, temp dirs, bounded waits, and the
 * secret scan every file runs over everything the suite printed and wrote.
 */

export const CHILD = new URL('./fixtures/chaosChild.mjs', import.meta.url).pathname;
export const HOUR = 3_600_000;

export const browserEnv = () => ({ ...process.env, BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });

const dirs: string[] = [];
export async function tempDir(prefix = 'chaos-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export const removeTempDirs = () => Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));

/** Everything printed or logged (child stdout/stderr, logger records, errors, notices): scanned at the end. */
export const printed: string[] = [];
/** Every secret value the suite saw: tokens, client secrets, subject JWTs, device codes. */
export const secrets = new Set<string>();
export const rememberSecret = (...values: (string | undefined)[]) => {
  for (const value of values) if (value && value.length >= 8) secrets.add(value);
};

export function recordingLogger() {
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) => void printed.push(JSON.stringify({ level, event, ...fields }));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** No secret, and nothing JWT-shaped, in anything printed. Call in afterAll. */
export function scanForSecrets(): void {
  const text = printed.join('\n');
  for (const secret of secrets) expect(text.includes(secret), 'a secret reached the output').toBe(false);
  expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/);
  expect(text).not.toMatch(/(refresh_token|access_token|client_secret|device_code|code_verifier)=[^&\s"[]{8,}/);
}

export interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  go(): void;
  /** Waits (bounded) for the n-th stdout line and returns it. */
  line(n: number, timeoutMs?: number): Promise<string>;
}

export async function spawnChild(config: Record<string, unknown>): Promise<Child> {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, CHAOS_CHILD_CONFIG: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, newline));
      printed.push(buffer.slice(0, newline).replace(/"accessToken":"[^"]*"/, '"accessToken":"(returned to the caller)"'));
      buffer = buffer.slice(newline + 1);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => void printed.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: Child = {
    process: child,
    lines,
    exited,
    go: () => void child.stdin!.write('go\n'),
    line: async (n, timeoutMs = 20_000) => {
      await until(() => lines.length > n || child.exitCode !== null || child.signalCode !== null, timeoutMs);
      return lines[n] ?? '';
    },
  };
  expect(await handle.line(0)).toBe('ready');
  return handle;
}

/** Polls until `predicate` holds, a bounded number of times. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Every record file of a store dir parses as JSON: a half-written file would not. */
export async function expectStoreIntact(dir: string): Promise<unknown[]> {
  const files = (await readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.json'));
  const records: unknown[] = [];
  for (const file of files) records.push(JSON.parse(await readFile(join(dir, file), 'utf8')));
  return records;
}

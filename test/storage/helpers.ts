import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/adapters/logger.js';
import type { StoreKeyInput } from '../../src/adapters/storage/types.js';
import type { TokenSet } from '../../src/machines/token.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (event: string, fields: Record<string, unknown> = {}) => {
    entries.push({ level, event, fields });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const keyInput = (overrides: Partial<StoreKeyInput> = {}): StoreKeyInput => ({
  providerId: 'corp',
  issuer: 'https://idp.example.test/realms/corp',
  clientId: 'opencode',
  flow: 'authorization_code',
  scopes: ['openid', 'offline_access'],
  ...overrides,
});

export const tokenSet = (accessToken: string, extra: Partial<TokenSet> = {}): TokenSet => ({
  accessToken,
  tokenType: 'Bearer',
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_000_300_000,
  ...extra,
});

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oom-storage-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHILD_SCRIPT = path.join(here, 'fixtures', 'storeChild.mjs');
export const BUILT_ENGINE = path.resolve(here, '..', '..', 'dist', 'engine.mjs');

export function assertEngineBuilt(): void {
  if (!existsSync(BUILT_ENGINE)) throw new Error(`${BUILT_ENGINE} is missing: run \`npm run build\` (npm test does it first)`);
}

export interface ChildConfig {
  mode: 'cycle' | 'hold' | 'cas' | 'try';
  /** `try`: how long to wait for the lock. */
  waitMs?: number;
  dir: string;
  key: StoreKeyInput;
  out?: string;
  rounds?: number;
  startAt?: number;
  lock?: Record<string, number>;
}

export interface ChildRun {
  child: ChildProcess;
  /** Resolves on exit; a child still running after `limitMs` is killed, so no test waits forever. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when the child prints `line` on stdout (bounded by the same limit). */
  printed(line: string): Promise<void>;
}

/** Preload for a child: `CLOCK_OFFSET_MS` shifts its Date.now, `FAKE_HOSTNAME` replaces os.hostname(). */
export const SKEW_PRELOAD = path.join(here, 'fixtures', 'skew.mjs');

export function runChild(config: ChildConfig, limitMs = 20_000, skew: { clockOffsetMs?: number; hostname?: string } = {}): ChildRun {
  const preload = skew.clockOffsetMs !== undefined || skew.hostname !== undefined ? ['--import', SKEW_PRELOAD] : [];
  const env = {
    ...process.env,
    ...(skew.clockOffsetMs !== undefined ? { CLOCK_OFFSET_MS: String(skew.clockOffsetMs) } : {}),
    ...(skew.hostname !== undefined ? { FAKE_HOSTNAME: skew.hostname } : {}),
  };
  const child = spawn(process.execPath, [...preload, CHILD_SCRIPT, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  const listeners: Array<() => void> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const printed = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.split('\n').includes(line)) resolve();
      };
      listeners.push(check);
      check();
      void exited.then(() => reject(new Error(`child exited before printing ${line}: ${stderr}`)));
    });
  return { child, exited, printed };
}

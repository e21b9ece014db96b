// @ts-check
/**
 * Run the real OpenCode CLI with a hard deadline. The CLI is a Bun executable that may start children (the
 * BROWSER shim, subject-token commands); it runs in its own process group and the whole group is killed on
 * timeout or abort, so nothing outlives a test.
 * @module
 */
import { spawn } from 'node:child_process';
import { opencodeBinary } from './binary.mjs';
import { logSnapshot, logsSince } from './logs.mjs';

/**
 * @typedef {object} RunResult
 * @property {number | null} code exit code (null when killed)
 * @property {NodeJS.Signals | null} signal
 * @property {string} stdout
 * @property {string} stderr
 * @property {number} ms wall time
 * @property {boolean} timedOut the deadline killed it
 * @property {string} log OpenCode's log lines written during this run ('' unless `stateDir` was given)
 */

/**
 * @typedef {object} RunOptions
 * @property {string} cwd the project dir
 * @property {Record<string, string>} env the complete environment (see isolatedEnv); nothing is inherited
 * @property {string[]} args CLI arguments, e.g. ['run', '--model', 'corp/m', 'hello']
 * @property {number} [timeoutMs] hard deadline (default 60000): SIGTERM to the group, SIGKILL 2 s later
 * @property {string} [bin] the binary (default opencodeBinary())
 * @property {string} [stdin] text for stdin (default: stdin is /dev/null, as in CI)
 * @property {AbortSignal} [signal] aborting kills the group like the deadline
 * @property {string} [stateDir] the state dir of `env`: the result then carries this run's log lines
 */

/**
 * @typedef {object} OpencodeProcess
 * @property {number | undefined} pid
 * @property {() => string} stdout what was written so far
 * @property {() => string} stderr what was written so far
 * @property {(pattern: RegExp, timeoutMs: number, stream?: 'stderr' | 'stdout') => Promise<RegExpMatchArray>} waitFor
 *   resolves with the first match in the stream so far or later; rejects on timeout or exit
 * @property {() => void} kill kill the process group
 * @property {Promise<RunResult>} done
 */

const KILL_GRACE_MS = 2000;

/** @param {number | undefined} pid @param {NodeJS.Signals} signal */
function killGroup(pid, signal) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Start OpenCode and return a handle; stdout/stderr are collected.
 * @param {RunOptions} options
 * @returns {OpencodeProcess}
 */
export function spawnOpencode(options) {
  const bin = options.bin ?? opencodeBinary();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const logsBefore = options.stateDir ? logSnapshot(options.stateDir) : undefined;
  const child = spawn(bin, options.args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  /** @type {Set<() => void>} */
  const listeners = new Set();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
    notify();
  });
  if (options.stdin !== undefined && child.stdin) child.stdin.end(options.stdin);

  let timedOut = false;
  /** @type {NodeJS.Timeout | undefined} */
  let killTimer;
  const terminate = () => {
    killGroup(child.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const deadline = setTimeout(() => {
    timedOut = true;
    terminate();
  }, timeoutMs);
  const onAbort = () => terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let exited = false;
  /** @type {Promise<RunResult>} */
  const done = new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(deadline);
      reject(new Error(`could not start ${bin}: ${error.message}`));
    });
    // 'close' waits for stdio to drain; children that inherited the pipes are killed with the group.
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Leftovers of the group (a BROWSER shim still polling) go too.
      killGroup(child.pid, 'SIGKILL');
      notify();
      const ms = Math.round(performance.now() - started);
      const log = options.stateDir && logsBefore ? logsSince(options.stateDir, logsBefore) : '';
      resolve({ code, signal, stdout, stderr, ms, timedOut, log });
    });
  });

  return {
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: terminate,
    done,
    waitFor(pattern, waitMs, stream = 'stderr') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = (stream === 'stderr' ? stderr : stdout).match(pattern);
          if (match) return finish(() => resolve(match));
          if (exited) return finish(() => reject(new Error(`opencode exited before ${stream} matched ${pattern}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${stream} did not match ${pattern} within ${waitMs} ms`))),
          waitMs,
        );
        /** @param {() => void} settle */
        const finish = (settle) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/**
 * Run OpenCode to completion (or the deadline).
 * @param {RunOptions} options
 * @returns {Promise<RunResult>}
 */
export function runOpencode(options) {
  return spawnOpencode(options).done;
}

/**
 * The assistant's text from `opencode run --format json` output (JSONL events; `text` events carry `part.text`).
 * @param {string} stdout
 * @returns {string}
 */
export function answerText(stdout) {
  const parts = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line);
      if (event.type === 'text' && typeof event.part?.text === 'string') parts.push(event.part.text);
    } catch {
      // not an event line
    }
  }
  return parts.join('').trim();
}

/** ANSI colour/style sequences (OpenCode colours `Error:` even with NO_COLOR). */
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * @param {string} text
 * @returns {string}
 */
export function stripAnsi(text) {
  return text.replace(ANSI, '');
}

/**
 * What the user is told of a failure: stderr (without colours), plus the message of every `error` event of
 * `--format json`, where OpenCode reports the error on stdout as `{"type":"error","error":{"name","data":{"message"}}}`.
 * @param {{ stdout: string, stderr: string }} result
 * @returns {string}
 */
export function shownErrors(result) {
  const messages = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line);
      if (event.type === 'error') {
        messages.push(String(event.error?.data?.message ?? event.error?.message ?? JSON.stringify(event.error)));
      }
    } catch {
      // not an event line
    }
  }
  return [stripAnsi(result.stderr), ...messages].join('\n');
}

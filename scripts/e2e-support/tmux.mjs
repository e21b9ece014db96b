// @ts-check
/**
 * Drive the real OpenCode TUI (`opencode` with no sub-command) in a detached tmux session: type keys, read the
 * screen with `capture-pane`. Each session has its own tmux server (a socket in the scenario's dir), so tests never
 * see each other's panes or a user's tmux; `stop()` kills that server and with it OpenCode. Every wait is bounded.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { opencodeBinary } from './binary.mjs';
import { stripAnsi } from './run.mjs';

/** tmux on PATH (Debian's `tmux` package; `.ci/run` installs it when missing). */
export function tmuxBinary() {
  const found = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  if (found.status !== 0 || !bin) throw new Error('tmux is not installed: apt-get install -y tmux (.ci/run does this)');
  return bin;
}

/**
 * @typedef {object} TuiSession
 * @property {(...keys: string[]) => void} keys tmux key names (`Enter`, `Escape`, `C-c`) or literal text with `type`
 * @property {(text: string) => void} type literal text, no key-name lookup
 * @property {() => string} screen the visible pane as plain text
 * @property {(pattern: RegExp, timeoutMs: number, what?: string) => Promise<{ match: RegExpMatchArray, screen: string }>} waitFor
 *   polls the screen until `pattern` matches; rejects with the last screen on timeout
 * @property {(pattern: RegExp, timeoutMs: number, what?: string) => Promise<string>} waitForGone
 *   polls the screen until `pattern` no longer matches (a dialog closed)
 * @property {string[]} screens every screen read so far (for "no plugin text ever" checks)
 * @property {() => void} stop kills the session's tmux server (and OpenCode with it)
 */

/**
 * @param {{ cwd: string, env: Record<string, string>, dir: string, args?: string[], width?: number, height?: number, bin?: string }} options
 *   `env` is the complete environment of OpenCode (see isolatedEnv); `dir` holds the tmux socket
 * @returns {TuiSession}
 */
export function startTui(options) {
  const tmux = tmuxBinary();
  const socket = path.join(options.dir, 'tmux.sock');
  const bin = options.bin ?? opencodeBinary();
  /** @type {Record<string, string>} */
  const env = { ...options.env, TERM: 'xterm-256color' };
  delete env.NO_COLOR;
  /** @param {string[]} args */
  const run = (args) => execFileSync(tmux, ['-S', socket, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: env.HOME ?? '/' } });
  // `env -i` so nothing of the test runner's environment (or tmux's global one) reaches OpenCode.
  const command = ['env', '-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), bin, ...(options.args ?? [])];
  run(['-f', '/dev/null', 'new-session', '-d', '-s', 'tui', '-x', String(options.width ?? 160), '-y', String(options.height ?? 45), '-c', options.cwd, '--', ...command]);
  /** @type {string[]} */
  const screens = [];
  const screen = () => {
    const text = stripAnsi(run(['capture-pane', '-p', '-t', 'tui']));
    screens.push(text);
    return text;
  };
  return {
    keys: (...keys) => void run(['send-keys', '-t', 'tui', ...keys]),
    type: (text) => void run(['send-keys', '-t', 'tui', '-l', text]),
    screen,
    screens,
    async waitFor(pattern, timeoutMs, what = String(pattern)) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          last = screen();
        } catch (error) {
          throw new Error(`the TUI is gone while waiting for ${what}: ${error instanceof Error ? error.message : error}\n${last}`);
        }
        const match = last.match(pattern);
        if (match) return { match, screen: last };
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${last}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async waitForGone(pattern, timeoutMs, what = String(pattern)) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const last = screen();
        if (!pattern.test(last)) return last;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to go; the screen:\n${last}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    stop() {
      try {
        run(['kill-server']);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * The non-blank lines of a screen, trimmed (for the report and assertion messages).
 * @param {string} screen
 */
export function screenLines(screen) {
  return screen
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

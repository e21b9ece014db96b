import type { ConfigIssue } from '../config/index.js';
import type { FlowNotice } from '../flows/index.js';
import type { OpencodeClientLike } from './opencodeTypes.js';

/**
 * Where the user looks, and whether a request may ask them to log in.
 *
 * - Headless commands (`opencode run`, `models`, `providers login`, …) show what matters on stderr as plain
 *   text: a TTY is not guaranteed and logs are not read.
 * - The TUI owns the terminal; there a toast is the place (stderr would scribble over the screen).
 * A login prompt (device code, URL) goes to both stderr and a toast whatever the surface: missing it means a
 * request that hangs until the login times out.
 */

/** OpenCode's sub-commands that run without the TUI (1.18.33). Anything else (no command, a path) is the TUI. */
const HEADLESS_COMMANDS = new Set([
  'run',
  'models',
  'providers',
  'auth',
  'debug',
  'serve',
  'stats',
  'export',
  'import',
  'github',
  'pr',
  'session',
  'mcp',
  'acp',
  'agent',
  'generate',
  'upgrade',
  'uninstall',
  'plugin',
  'db',
  'console',
]);

export type Surface = 'terminal' | 'tui';

/** Bun single-file executables pass `[bun, /$bunfs/root/opencode, ...args]`, node `[node, script, ...args]`. */
export function detectSurface(argv: readonly string[] = process.argv): Surface {
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return command !== undefined && HEADLESS_COMMANDS.has(command) ? 'terminal' : 'tui';
}

/**
 * The model `opencode run --model <provider>/<model>` asks for, if any. OpenCode refuses an unknown model
 * before any hook runs, so a user-flow provider without a known list would never get to its login.
 */
export function requestedModel(argv: readonly string[] = process.argv): { providerId: string; modelId: string } | undefined {
  const args = argv.slice(2);
  if (args.find((arg) => !arg.startsWith('-')) !== 'run') return undefined;
  for (const [index, arg] of args.entries()) {
    const value = arg === '--model' || arg === '-m' ? args[index + 1] : arg.startsWith('--model=') ? arg.slice('--model='.length) : undefined;
    const slash = value?.indexOf('/') ?? -1;
    if (value && slash > 0 && slash < value.length - 1) return { providerId: value.slice(0, slash), modelId: value.slice(slash + 1) };
  }
  return undefined;
}

export const INTERACTIVE_ENV = 'OPENCODE_OAUTH_INTERACTIVE';

/**
 * May a chat request start a browser or device login? `OPENCODE_OAUTH_INTERACTIVE=1` always, `=0` never;
 * otherwise only where a human is plausibly watching (stdin or stderr is a TTY) and never under `CI=true`.
 */
export function mayStartInteractiveLogin(
  env: Record<string, string | undefined> = process.env,
  tty: { stdin: boolean; stderr: boolean } = { stdin: !!process.stdin?.isTTY, stderr: !!process.stderr?.isTTY },
): boolean {
  const setting = env[INTERACTIVE_ENV]?.trim().toLowerCase();
  if (setting === '1' || setting === 'true' || setting === 'yes') return true;
  if (setting === '0' || setting === 'false' || setting === 'no') return false;
  const ci = env.CI?.trim().toLowerCase();
  if (ci === 'true' || ci === '1') return false;
  return tty.stdin || tty.stderr;
}

export interface UserSurface {
  /** A config problem: a toast in the TUI, stderr elsewhere (the log gets it separately). */
  showIssue(issue: ConfigIssue): void;
  /** A login waiting for the user (device code, URL): stderr and a toast, always. */
  showLogin(notice: FlowNotice & { providerId: string }): void;
  /** A short message worth seeing (a failed login from the auth hook). */
  showError(text: string): void;
  setClient(client: OpencodeClientLike): void;
}

const PREFIX = '[opencode-oauth-machines]';

export function createUserSurface(options: {
  client: OpencodeClientLike;
  surface: Surface;
  writeStderr?: (text: string) => void;
  now?: () => number;
}): UserSurface {
  let client = options.client;
  const write = options.writeStderr ?? ((text: string) => void process.stderr.write(text));
  const toast = (message: string, variant: 'info' | 'warning' | 'error', duration?: number) => {
    const show = client.tui?.showToast;
    if (typeof show !== 'function') return false;
    void Promise.resolve()
      .then(() => show.call(client.tui, { body: { title: 'OAuth', message, variant, ...(duration ? { duration } : {}) } }))
      .catch(() => {});
    return true;
  };
  const inTui = () => options.surface === 'tui';
  return {
    showIssue(issue) {
      const text = `${issue.severity === 'error' ? 'config error' : 'config warning'}: ${issue.message}`;
      if (inTui() && toast(text, issue.severity === 'error' ? 'error' : 'warning', 10_000)) return;
      write(`${PREFIX} ${text}\n`);
    },
    showLogin(notice) {
      const until = notice.expiresAt ? ` (until ${new Date(notice.expiresAt).toLocaleTimeString()})` : '';
      const lines = [`${PREFIX} ${notice.providerId}: ${notice.text}${until}`];
      if (notice.url && !notice.text.includes(notice.url)) lines.push(`  open: ${notice.url}`);
      if (notice.userCode && !notice.text.includes(notice.userCode)) lines.push(`  code: ${notice.userCode}`);
      write(`${lines.join('\n')}\n`);
      toast(lines.join(' '), 'info', notice.expiresAt && options.now ? Math.max(5_000, notice.expiresAt - options.now()) : 60_000);
    },
    showError(text) {
      if (inTui() && toast(text, 'error', 10_000)) return;
      write(`${PREFIX} ${text}\n`);
    },
    setClient(next) {
      client = next;
    },
  };
}

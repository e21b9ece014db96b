import type { ConfigIssue } from '../config/index.js';
import type { FlowNotice } from '../flows/index.js';
import { createLoginNotices, PREFIX, type ShowToast } from './loginNotices.js';
import type { OpencodeClientLike } from './opencodeTypes.js';

/**
 * Where the user looks (whether a request may ask them to log in is src/plugin/loginPolicy.ts).
 *
 * - Headless commands (`opencode run`, `models`, `providers login`, …) show what matters on stderr as plain
 *   text: a TTY is not guaranteed and logs are not read.
 * - The TUI owns the terminal; there toasts and OpenCode's own dialogs are the place, and nothing is written
 *   to the terminal (stderr would land across the TUI's input box). What is not shown goes to the log.
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

export interface UserSurface {
  /** A config problem: a toast in the TUI, stderr elsewhere (the log gets it separately). */
  showIssue(issue: ConfigIssue): void;
  /** A login waiting for the user (device code, URL): stderr headless, one lasting toast in the TUI. */
  showLogin(notice: FlowNotice & { providerId: string }): void;
  /** The login finished: replaces the login toast with "Logged in to <name>" or with the error. */
  loginSucceeded(providerId: string, name: string): void;
  loginFailed(providerId: string, message: string): void;
  /** A short message worth seeing (a failed login from the auth hook). */
  showError(text: string): void;
  setClient(client: OpencodeClientLike): void;
}

export function createUserSurface(options: {
  client: OpencodeClientLike;
  surface: Surface;
  writeStderr?: (text: string) => void;
  now?: () => number;
}): UserSurface {
  let client = options.client;
  const write = options.writeStderr ?? ((text: string) => void process.stderr.write(text));
  const toast: ShowToast = ({ message, variant, duration }) => {
    const show = client.tui?.showToast;
    if (typeof show !== 'function') return;
    void Promise.resolve()
      .then(() => show.call(client.tui, { body: { title: 'OAuth', message, variant, duration } }))
      .catch(() => {});
  };
  const inTui = () => options.surface === 'tui';
  const logins = createLoginNotices({
    surface: options.surface,
    toast,
    write,
    now: options.now ?? Date.now,
  });
  return {
    showIssue(issue) {
      const text = `${issue.severity === 'error' ? 'config error' : 'config warning'}: ${issue.message}`;
      if (inTui()) toast({ message: text, variant: issue.severity === 'error' ? 'error' : 'warning', duration: 10_000 });
      else write(`${PREFIX} ${text}\n`);
    },
    showLogin: (notice) => logins.waiting(notice),
    loginSucceeded: (providerId, name) => logins.succeeded(providerId, name),
    loginFailed: (providerId, message) => logins.failed(providerId, message),
    showError(text) {
      if (inTui()) toast({ message: text, variant: 'error', duration: 10_000 });
      else write(`${PREFIX} ${text}\n`);
    },
    setClient(next) {
      client = next;
    },
  };
}

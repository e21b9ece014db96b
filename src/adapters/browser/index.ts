import { TokenError } from '../../errors.js';

export interface BrowserCommand {
  command: string;
  args: string[];
}

export interface OpenBrowserOptions {
  providerId?: string;
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  /** A launcher that fails (no browser, no display) exits non-zero within this window. Default 1500 ms. */
  failureWindowMs?: number;
}

/** Split a BROWSER value into words: whitespace separates, single and double quotes group. No shell. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The command that opens `url`: `$BROWSER` first (a command with arguments; `%s` stands for the URL,
 * else the URL is appended), then the OS opener. On Windows `rundll32 url.dll,FileProtocolHandler` is used
 * instead of `cmd /c start`, whose parser cuts URLs at `&`. On Linux without a graphical session there is
 * nothing to open (xdg-open would start a text browser inside the terminal): undefined.
 */
export function browserCommand(url: string, env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform): BrowserCommand | undefined {
  const configured = env.BROWSER?.trim();
  if (configured) {
    const words = splitCommandLine(configured);
    if (words.length > 0) {
      const hasPlaceholder = words.some((w) => w.includes('%s'));
      const args = hasPlaceholder ? words.slice(1).map((w) => w.replaceAll('%s', url)) : [...words.slice(1), url];
      const command = words[0]!.replaceAll('%s', url);
      return { command, args };
    }
  }
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return { command: 'xdg-open', args: [url] };
}

function cannotOpen(providerId: string, reason: string, cause?: unknown): TokenError {
  return new TokenError({
    code: 'config',
    providerId,
    message: `could not open a browser (${reason})`,
    fix: 'open the login URL shown by hand, or set BROWSER to a command that opens URLs',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/**
 * Open `url` in the user's browser. Resolves when the opener started and did not fail within the
 * failure window; rejects with "could not open a browser" when it cannot be spawned, exits non-zero in
 * that window, or nothing can open a browser here — the caller then shows the URL instead.
 */
export function openBrowser(url: string, options: OpenBrowserOptions = {}): Promise<void> {
  const providerId = options.providerId ?? 'browser';
  const command = browserCommand(url, options.env ?? process.env, options.platform ?? process.platform);
  if (!command) return Promise.reject(cannotOpen(providerId, 'no graphical session and BROWSER is not set'));
  // node:child_process is loaded here, not at start (~10 ms): only browser logins open a browser.
  return import('node:child_process').then(({ spawn }) => new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: TokenError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const child = spawn(command.command, command.args, { stdio: 'ignore', detached: process.platform !== 'win32', shell: false, env: (options.env ?? process.env) as NodeJS.ProcessEnv });
    // Still running at the end of the window: a browser that stays open, or an opener that handed off.
    const timer = setTimeout(() => {
      child.unref();
      settle();
    }, options.failureWindowMs ?? 1500);
    child.once('error', (error: NodeJS.ErrnoException) => settle(cannotOpen(providerId, `${command.command}: ${error.code ?? error.name}`, error)));
    child.once('exit', (code, signal) => {
      if (code === 0) settle();
      else settle(cannotOpen(providerId, `${command.command} exited with ${signal ?? `code ${code}`}`));
    });
  }));
}

import type { FlowNotice } from '../flows/index.js';
import type { Surface } from './userSurface.js';

/**
 * What a waiting login shows, per surface:
 * - headless commands: plain stderr lines (a script or an editor task reads them; no TTY needed);
 * - the TUI: one toast per login that says each thing once, stays while the login waits, and is replaced by
 *   "Logged in to <name>" or by the error. Nothing is written to the terminal: the TUI owns it.
 */

export type ToastVariant = 'info' | 'success' | 'warning' | 'error';
export type ShowToast = (toast: { message: string; variant: ToastVariant; duration: number }) => void;

/** A login toast with no deadline of its own still goes away at some point (a login never waits longer). */
const UNBOUNDED_TOAST_MS = 15 * 60_000;
const RESULT_TOAST_MS = 6_000;
/** What starts every line the plugin writes to stderr. */
export const PREFIX = '[opencode-oauth-machines]';

export interface LoginNotices {
  /** A login is waiting for the user: the device code, the URL, how long it waits. */
  waiting(notice: FlowNotice & { providerId: string }): void;
  /** The login of `providerId` finished; replaces its toast (if one is up). */
  succeeded(providerId: string, name: string): void;
  failed(providerId: string, message: string): void;
}

/** The parts of a notice not already said in its text, appended once. */
function noticeLines(notice: FlowNotice): string[] {
  const lines = [notice.text];
  if (notice.url && !notice.text.includes(notice.url)) lines.push(notice.url);
  if (notice.userCode && !notice.text.includes(notice.userCode)) lines.push(`code: ${notice.userCode}`);
  return lines;
}

export function createLoginNotices(options: { surface: Surface; toast: ShowToast; write: (text: string) => void; now: () => number }): LoginNotices {
  /** Per provider, what the login toast says so far (a browser login sends the URL, then "waiting until …"). */
  const pending = new Map<string, { lines: string[]; until: number | undefined }>();

  return {
    waiting(notice) {
      const lines = noticeLines(notice);
      if (options.surface === 'terminal') {
        const [first, ...rest] = lines;
        options.write(`${[`${PREFIX} ${notice.providerId}: ${first}`, ...rest.map((line) => `  ${line}`)].join('\n')}\n`);
        pending.set(notice.providerId, { lines, until: notice.expiresAt });
        return;
      }
      const current = pending.get(notice.providerId) ?? { lines: [], until: undefined };
      for (const line of lines) if (!current.lines.some((shown) => shown.includes(line))) current.lines.push(line);
      current.until = notice.expiresAt ?? current.until;
      pending.set(notice.providerId, current);
      const duration = current.until !== undefined ? Math.max(5_000, current.until - options.now()) : UNBOUNDED_TOAST_MS;
      options.toast({ message: current.lines.join('\n'), variant: 'info', duration });
    },
    succeeded(providerId, name) {
      if (!pending.delete(providerId)) return;
      if (options.surface === 'terminal') options.write(`${PREFIX} Logged in to ${name}\n`);
      else options.toast({ message: `Logged in to ${name}`, variant: 'success', duration: RESULT_TOAST_MS });
    },
    failed(providerId, message) {
      const shown = pending.delete(providerId);
      // Headless commands print the failed request's (or login's) error themselves.
      if (options.surface === 'tui' && shown) options.toast({ message, variant: 'error', duration: 10_000 });
    },
  };
}

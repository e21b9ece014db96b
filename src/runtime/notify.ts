import type { FlowNotice } from '../flows/index.js';

/**
 * Shows what a waiting login needs from the user on stderr: where `opencode run` and scripts show it.
 * The device code and URL are meant for the user's eyes; they are never logged.
 */
export function stderrNotifier(write: (text: string) => void = (text) => process.stderr.write(text)) {
  return (notice: FlowNotice & { providerId: string }) => {
    const until = notice.expiresAt ? ` (until ${new Date(notice.expiresAt).toLocaleTimeString()})` : '';
    const lines = [`[opencode-oauth-machines] ${notice.providerId}: ${notice.text}${until}`];
    if (notice.url && !notice.text.includes(notice.url)) lines.push(`  open: ${notice.url}`);
    if (notice.userCode && !notice.text.includes(notice.userCode)) lines.push(`  code: ${notice.userCode}`);
    write(lines.join('\n') + '\n');
  };
}

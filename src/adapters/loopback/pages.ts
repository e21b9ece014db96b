import type { CallbackResult } from '../../machines/flowCallback.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** What the browser shows for a request to the loopback server: status and page, never the code or state. */
export function callbackPage(result: CallbackResult | { kind: 'finished' }): { status: number; html: string } {
  switch (result.kind) {
    case 'code':
      return { status: 200, html: page('Login complete', '<p>You can close this tab and return to your terminal.</p>') };
    case 'idp_error':
      return {
        status: 400,
        html: page(
          'Login failed',
          `<p>The identity provider answered <code>${escapeHtml(result.error)}</code>${
            result.errorDescription ? `: ${escapeHtml(result.errorDescription)}` : ''
          }.</p><p>Return to your terminal for details.</p>`,
        ),
      };
    case 'issuer_mismatch':
      return { status: 400, html: page('Login refused', '<p>The response did not come from the expected identity provider.</p>') };
    case 'finished':
      return { status: 409, html: page('No login waiting', '<p>This login has already finished. You can close this tab.</p>') };
    case 'stray':
      return result.reason === 'wrong_path'
        ? { status: 404, html: page('Not found', '') }
        : {
            status: 400,
            html: page(
              'Not the pending login',
              result.reason === 'state_mismatch'
                ? '<p>This response belongs to another (older?) login attempt. Finish the login in the newest browser tab.</p>'
                : '<p>This address only accepts the identity provider\'s redirect.</p>',
            ),
          };
  }
}

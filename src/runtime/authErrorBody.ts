import { readCappedText } from '../adapters/http/client.js';
import { scrubSecrets } from '../adapters/redact.js';

/**
 * The body of a refused request, as the host (OpenCode) gets it: read up to a bound, scrubbed of the
 * credential sent and every known secret (a gateway may echo `Authorization` in a 401/403 page, and the host
 * prints and stores what it gets), then handed on as a fresh Response with the same status.
 */

/** Error bodies past this are cut: nothing useful to a user is that long, and the rest cannot be scrubbed unseen. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Headers that no longer describe the new body (fetch has already decoded it). */
const BODY_HEADERS = ['content-length', 'content-encoding', 'transfer-encoding'];

function scrubbedHeaders(headers: Headers, secrets: readonly string[]): Headers {
  const out = new Headers();
  for (const [name, value] of headers) {
    if (BODY_HEADERS.includes(name)) continue;
    out.append(name, secrets.some((secret) => value.includes(secret)) ? scrubSecrets(value, secrets) : value);
  }
  return out;
}

export async function scrubErrorResponse(response: Response, secrets: readonly string[]): Promise<Response> {
  // 1xx/204/304 carry no body; a redirect returned as is (not followed) has nothing worth reading either.
  if (response.status < 200 || response.status === 204 || response.status === 304) return response;
  const text = await readCappedText(response, MAX_ERROR_BODY_BYTES).catch(() => '');
  return new Response(scrubSecrets(text, secrets), {
    status: response.status,
    statusText: response.statusText,
    headers: scrubbedHeaders(response.headers, secrets),
  });
}

/**
 * A 401 for a token the IdP issued moments ago is not an expired token: the gateway does not accept what
 * the IdP issues. The body OpenCode shows says so (OpenAI's error shape, so its message is what is printed),
 * keeping the gateway's own words.
 */
export async function freshTokenRefusal(response: Response, providerId: string): Promise<Response> {
  const text = await response.text().catch(() => '');
  let said = text.trim();
  try {
    const value = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const inner = typeof value.error === 'object' && value.error ? value.error.message : undefined;
    said = String(inner ?? (typeof value.error === 'string' ? value.error : undefined) ?? value.message ?? said);
  } catch {
    // Not JSON: the gateway's text as it is.
  }
  const message =
    `[${providerId}] the gateway refused a freshly issued token (HTTP 401${said ? `: ${said.slice(0, 200)}` : ''}). ` +
    'The IdP issued it a moment ago, so it is not expired: the gateway most likely expects another audience ' +
    '(oauth2.audience / resource) or scope (oauth2.scopes), or trusts another issuer — check the gateway\'s ' +
    'issuer/JWKS configuration against oauth2.issuer. See docs/troubleshooting.md#gateway_rejected_token';
  const headers = new Headers(response.headers);
  for (const name of BODY_HEADERS) headers.delete(name);
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify({ error: { message, type: 'invalid_request_error', code: 'gateway_rejected_token' } }), {
    status: 401,
    statusText: response.statusText,
    headers,
  });
}

/**
 * Redirects of a credentialed request, followed by hand: fetch's own following keeps custom headers
 * (`x-api-key`) across origins under Bun and Node alike, which hands the credential to whoever the gateway
 * (or an attacker controlling a redirect) points at. Same-origin hops keep every header; a cross-origin hop
 * drops every credential header. 303, and 301/302 after a POST, become a GET without a body (as fetch does).
 */

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
/** Always credentials, whatever scheme the provider uses; plus the provider's own credential header names. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie'];

export interface FollowOptions {
  /** The headers this request's credential went in (e.g. `authorization`, `x-api-key`). */
  credentialHeaders: readonly string[];
  /** Whether the body can be sent again (a consumed stream cannot): otherwise a 307/308 is returned as is. */
  replayable: boolean;
}

export async function followRedirects(
  base: typeof fetch,
  input: Request | string | URL,
  init: RequestInit & { headers: Headers },
  options: FollowOptions,
): Promise<Response> {
  let response = await base(input, { ...init, redirect: 'manual' });
  let url = new URL(input instanceof Request ? input.url : String(input));
  let method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  let stripped = false;
  for (let hop = 0; hop < MAX_REDIRECTS && REDIRECT_STATUSES.has(response.status); hop++) {
    const location = response.headers.get('location');
    if (!location) return response;
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return response;
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return response;
    const toGet = response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST';
    if (!toGet && body !== undefined && body !== null && !options.replayable) return response;
    if (next.origin !== url.origin && !stripped) {
      for (const name of [...CREDENTIAL_HEADERS, ...options.credentialHeaders]) headers.delete(name);
      stripped = true;
    }
    if (toGet) {
      method = 'GET';
      body = undefined;
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    }
    await response.body?.cancel().catch(() => {});
    url = next;
    response = await base(url, { ...init, method, body, headers, redirect: 'manual' });
  }
  return response;
}

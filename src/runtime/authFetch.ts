import type { TokenSet } from '../machines/token.js';
import { credentialHeaders } from '../flows/index.js';
import type { GetTokenOptions } from './providerRuntime.js';
import { followRedirects } from './authRedirects.js';
import { freshTokenRefusal, scrubErrorResponse } from './authErrorBody.js';

export interface AuthFetchOptions {
  /** The fetch to wrap (e.g. one a host already wrapped); default the global fetch. */
  fetch?: typeof fetch;
  /** Options for the token lookups (interactive login allowed or not, timeouts). */
  token?: GetTokenOptions;
  /** Other secrets to scrub from error bodies (the provider's client secret, …). */
  knownSecrets?: () => readonly string[];
  /** Wall clock, to tell a freshly issued token from an old one. */
  now?: () => number;
}

interface TokenSource {
  getToken(providerId: string, options?: GetTokenOptions): Promise<TokenSet>;
  tokenRejected(providerId: string, accessToken: string): void;
}

/** A 401 for a token issued this recently is the gateway refusing what the IdP just gave: config, not expiry. */
const FRESH_TOKEN_MS = 60_000;

/**
 * fetch with the provider's credential, and one recovery from an upstream 401: the rejected token is
 * reported (it is renewed only if it is still the current one) and the request is replayed once with the
 * new token, only when its body can be sent again.
 *
 * Nothing the credential touches leaves unscrubbed: redirects are followed by hand and a cross-origin hop
 * loses every credential header; a non-2xx body is read (bounded) and the credential sent, every other known
 * secret and anything shaped like one are scrubbed before the host sees it; a 401 for a freshly issued token
 * says so in the body the host shows.
 */
export function createAuthFetch(engine: TokenSource, providerId: string, options: AuthFetchOptions = {}): typeof fetch {
  const base = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const send = async (input: Request | string | URL, init: RequestInit | undefined, token: TokenSet) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const credential = credentialHeaders(token);
    for (const [name, value] of Object.entries(credential)) headers.set(name, value);
    const sentValues = Object.values(credential);
    const response = await followRedirects(base, input, { ...init, headers }, { credentialHeaders: Object.keys(credential), replayable: replayable(input, init) });
    if (response.ok) return response;
    // Whatever credential-looking headers were sent (a host's own Authorization too) are secrets of this request.
    for (const name of ['authorization', 'x-api-key', 'proxy-authorization']) {
      const value = headers.get(name);
      if (value) sentValues.push(value);
    }
    const secrets = [token.accessToken, token.refreshToken, token.idToken, ...sentValues, ...(options.knownSecrets?.() ?? [])].filter(
      (value): value is string => typeof value === 'string' && value.length >= 8,
    );
    return scrubErrorResponse(response, secrets);
  };
  return (async (input: Request | string | URL, init?: RequestInit) => {
    const token = await engine.getToken(providerId, options.token);
    const response = await send(input, init, token);
    if (response.status !== 401) return response;
    // Reported even when this request cannot be replayed: the next one should not carry a rejected token.
    engine.tokenRejected(providerId, token.accessToken);
    const fresh = (t: TokenSet) => now() - t.issuedAt < FRESH_TOKEN_MS;
    if (!replayable(input, init)) return fresh(token) ? freshTokenRefusal(response, providerId) : response;
    const renewed = await engine.getToken(providerId, options.token).catch(() => undefined);
    if (!renewed || renewed.accessToken === token.accessToken) return fresh(token) ? freshTokenRefusal(response, providerId) : response;
    await response.body?.cancel().catch(() => {});
    const again = await send(input, init, renewed);
    // The token was renewed a moment ago and the gateway still says 401: it does not accept what the IdP issues.
    return again.status === 401 ? freshTokenRefusal(again, providerId) : again;
  }) as typeof fetch;
}

/** A streamed body was consumed by the first attempt; strings, buffers and forms can be sent again. */
function replayable(input: Request | string | URL, init?: RequestInit): boolean {
  if (input instanceof Request && input.body !== null && init?.body === undefined) return false;
  const body = init?.body;
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

import type { TokenSet } from '../machines/token.js';
import { credentialHeaders } from '../flows/index.js';
import type { GetTokenOptions } from './providerRuntime.js';

export interface AuthFetchOptions {
  /** The fetch to wrap (e.g. one a host already wrapped); default the global fetch. */
  fetch?: typeof fetch;
  /** Options for the token lookups (interactive login allowed or not, timeouts). */
  token?: GetTokenOptions;
}

interface TokenSource {
  getToken(providerId: string, options?: GetTokenOptions): Promise<TokenSet>;
  tokenRejected(providerId: string, accessToken: string): void;
}

/**
 * fetch with the provider's credential, and one recovery from an upstream 401: the rejected token is
 * reported (it is renewed only if it is still the current one) and the request is replayed once with the
 * new token, only when its body can be sent again.
 */
export function createAuthFetch(engine: TokenSource, providerId: string, options: AuthFetchOptions = {}): typeof fetch {
  const base = options.fetch ?? globalThis.fetch;
  const send = (input: Request | string | URL, init: RequestInit | undefined, token: TokenSet) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [name, value] of Object.entries(credentialHeaders(token))) headers.set(name, value);
    return base(input, { ...init, headers });
  };
  return (async (input: Request | string | URL, init?: RequestInit) => {
    const token = await engine.getToken(providerId, options.token);
    const response = await send(input, init, token);
    if (response.status !== 401) return response;
    // Reported even when this request cannot be replayed: the next one should not carry a rejected token.
    engine.tokenRejected(providerId, token.accessToken);
    if (!replayable(input, init)) return response;
    const renewed = await engine.getToken(providerId, options.token).catch(() => undefined);
    if (!renewed || renewed.accessToken === token.accessToken) return response;
    await response.body?.cancel().catch(() => {});
    return send(input, init, renewed);
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

import type { KyInstance } from 'ky';

export const USER_AGENT = 'opencode-oauth-machines';

/** Bodies beyond this are cut: an error page is evidence, not data, and a token response is small. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What one attempt produced: the status line, headers and the (capped) body as text. */
export interface HttpReply {
  status: number;
  headers: Headers;
  bodyText: string;
  /** The response was a redirect we refused to follow (status 3xx, or an opaque redirect). */
  redirected: boolean;
}

export interface HttpExchange {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Already encoded (form bodies are built by the caller so each attempt can sign afresh). */
  body?: string;
}

/**
 * The one ky instance shape every request to an authorization server uses.
 * - `redirect: 'manual'`: a 3xx from a token endpoint is an error, never followed (a followed POST can land
 *   the client secret or the refresh token on another host, or turn into a GET that loses the body).
 * - `throwHttpErrors: false`: error bodies carry the OAuth `error` we classify on.
 * - `retry: 0` and `timeout: false`: retries and timeouts belong to retry.ts alone (one layer, one budget);
 *   the per-attempt timeout is an AbortSignal that also covers reading the body, which ky's does not.
 */
export function createHttpClient(fetchImpl?: typeof fetch): HttpClient {
  let instance: Promise<KyInstance> | undefined;
  return () =>
    (instance ??= import('ky').then(({ default: ky }) =>
      ky.create({
        redirect: 'manual',
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: false,
        headers: { accept: 'application/json', 'user-agent': USER_AGENT },
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
      }),
    ));
}

/**
 * The ky instance, built on the first request: ky takes ~25 ms to load and a plugin whose every token is
 * still valid in the store makes no request at start.
 */
export type HttpClient = () => Promise<KyInstance>;

/** One attempt, no retry, no classification: network failures reject with whatever fetch threw. */
export async function sendOnce(client: HttpClient, exchange: HttpExchange, signal: AbortSignal): Promise<HttpReply> {
  const http = await client();
  const response = await http(exchange.url, {
    method: exchange.method,
    signal,
    ...(exchange.headers ? { headers: exchange.headers } : {}),
    ...(exchange.body !== undefined ? { body: exchange.body } : {}),
  });
  const redirected = response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
  const bodyText = redirected ? await discardBody(response) : await readCappedText(response, MAX_BODY_BYTES);
  return { status: response.status, headers: response.headers, bodyText, redirected };
}

async function discardBody(response: Response): Promise<string> {
  await response.body?.cancel().catch(() => undefined);
  return '';
}

/** Reads at most `maxBytes` of the body as UTF-8, then cancels the rest. */
export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    // No releaseLock(): the body is spent either way, and in Node 20 the first release builds its error
    // message through a fresh vm context (~5 ms on the first request of a process).
    if (total >= maxBytes) await reader.cancel().catch(() => undefined);
  }
  const joined = new Uint8Array(Math.min(total, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.byteLength, joined.byteLength - offset));
    joined.set(part, offset);
    offset += part.byteLength;
    if (offset >= joined.byteLength) break;
  }
  return new TextDecoder().decode(joined);
}

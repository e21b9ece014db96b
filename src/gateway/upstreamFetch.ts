/**
 * How the gateway calls its upstream. Everywhere: the runtime's fetch. On Node the host uses node:http
 * (nodeHttpFetch.ts), kept apart so a Workers bundle never sees node:http.
 */

export interface UpstreamInit {
  method: string;
  headers: Headers;
  body?: Uint8Array;
  signal?: AbortSignal;
}

export interface UpstreamFetch {
  (url: string, init: UpstreamInit): Promise<Response>;
  /** True when the response body arrives decoded (fetch undoes Content-Encoding): its length and encoding headers no longer apply. */
  readonly decodesBody: boolean;
}

export function runtimeFetch(fetchImpl: typeof fetch = fetch): UpstreamFetch {
  const call = (url: string, init: UpstreamInit) => fetchImpl(url, { ...init, redirect: 'manual' });
  return Object.assign(call, { decodesBody: true });
}


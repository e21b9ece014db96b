/**
 * How the gateway calls its upstream. Everywhere: the runtime's fetch. On Node the host uses node:http
 * (nodeHttpFetch.ts), kept apart so a Workers bundle never sees node:http.
 */

export interface UpstreamInit {
  method: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: Uint8Array;
  /**
   * The client's side: the upstream call ends when the client leaves. `bindings` is the host's (Hono's `c.env`):
   * the Node host's client watches its node:http response, cheaper than the Request's AbortSignal.
   */
  client: { request: Request; bindings?: unknown };
}

/**
 * Response headers: a plain record of lower-case names when every field has one value (what the Node host's
 * Response writes without a conversion), a `Headers` otherwise (several `Set-Cookie`, or from fetch).
 */
export type ReplyHeaders = Headers | Record<string, string>;

/** The upstream's answer as parts: the gateway builds exactly one Response from them. `headers` is ours to change. */
export interface UpstreamReply {
  status: number;
  statusText: string;
  headers: ReplyHeaders;
  /** A small body of announced length arrives whole (the host then writes it at once); anything else streams. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
}

export interface UpstreamFetch {
  (url: string, init: UpstreamInit): Promise<UpstreamReply>;
  /** True when the body arrives decoded (fetch undoes Content-Encoding): its length and encoding headers no longer apply. */
  readonly decodesBody: boolean;
}

/** Bodies up to this size with a Content-Length are read whole. SSE and chunked replies always stream. */
export const SMALL_BODY_BYTES = 64 * 1024;

export function runtimeFetch(fetchImpl: typeof fetch = fetch): UpstreamFetch {
  const call = async (url: string, init: UpstreamInit): Promise<UpstreamReply> => {
    const res = await fetchImpl(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body ? { body: init.body } : {}),
      signal: init.client.request.signal,
      redirect: 'manual',
    });
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    const body = length <= SMALL_BODY_BYTES ? new Uint8Array(await res.arrayBuffer()) : res.body;
    // A fetch Response's headers are immutable: the gateway gets its own copy.
    return { status: res.status, statusText: res.statusText, headers: new Headers(res.headers), body };
  };
  return Object.assign(call, { decodesBody: true });
}

import type { UpstreamFetch } from './upstreamFetch.js';

/**
 * Forwarding to the upstream: the client's credentials stay behind, the upstream key is injected, the body
 * goes byte-exact and the response streams back as it arrives.
 */

/** RFC 9110 §7.6.1 connection-specific fields, plus the ones proxies must not relay. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Everything that could carry the client's CI token or another credential of the caller. */
const CLIENT_CREDENTIALS = ['authorization', 'x-api-key', 'cookie'];

function dropHopByHop(headers: Headers): void {
  const listed = (headers.get('connection') ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...listed]) headers.delete(name);
}

export interface UpstreamTarget {
  url: string;
  authHeader: string;
  authPrefix: string;
}

export function upstreamUrl(base: string, requestUrl: string): string {
  const target = new URL(base);
  const incoming = new URL(requestUrl);
  target.pathname = `${target.pathname.replace(/\/+$/, '')}${incoming.pathname}`;
  target.search = incoming.search;
  return target.toString();
}

export function upstreamRequestHeaders(incoming: Headers, target: UpstreamTarget, key: string): Headers {
  const headers = new Headers(incoming);
  dropHopByHop(headers);
  for (const name of [...CLIENT_CREDENTIALS, target.authHeader.toLowerCase(), 'host', 'content-length']) headers.delete(name);
  headers.set(target.authHeader, `${target.authPrefix}${key}`);
  return headers;
}

/** Cleans the upstream's response headers in place (they are the gateway's own copy). */
export function clientResponseHeaders(headers: Headers, bodyDecoded: boolean): Headers {
  dropHopByHop(headers);
  // fetch has already decoded a compressed body: its length and encoding no longer describe what we send.
  if (bodyDecoded && headers.has('content-encoding')) {
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  return headers;
}

export async function forward(request: Request, target: UpstreamTarget, key: string, fetchImpl: UpstreamFetch): Promise<Response> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? new Uint8Array(await request.arrayBuffer()) : undefined;
  const upstream = await fetchImpl(upstreamUrl(target.url, request.url), {
    method: request.method,
    headers: upstreamRequestHeaders(request.headers, target, key),
    ...(body ? { body } : {}),
    signal: request.signal,
  });
  const headers = clientResponseHeaders(upstream.headers, fetchImpl.decodesBody);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}

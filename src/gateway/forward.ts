import type { ReplyHeaders, UpstreamFetch } from './upstreamFetch.js';

/**
 * Forwarding to the upstream: the client's credentials stay behind, the upstream key is injected, the body
 * goes byte-exact and the response streams back as it arrives. Headers travel as plain records where they can:
 * a Web `Headers` object per step was a large part of the gateway's CPU time per request (npm run bench).
 */

/** RFC 9110 §7.6.1 connection-specific fields, plus the ones proxies must not relay. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Everything that could carry the client's CI token or another credential of the caller. */
const CLIENT_CREDENTIALS = ['authorization', 'x-api-key', 'cookie'];

/** Request headers never relayed as they came: hop-by-hop, the caller's credentials, and what the client recomputes. */
const NOT_RELAYED: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...CLIENT_CREDENTIALS, 'host', 'content-length']);

/** The extra hop-by-hop names a `Connection` header lists. */
function listedInConnection(connection: string | null | undefined): string[] {
  return connection ? connection.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean) : [];
}

export interface UpstreamTarget {
  url: string;
  authHeader: string;
  authPrefix: string;
}

/** `<origin><base path without trailing slashes>`, per base URL: parsed once, not per request. */
const basePrefixes = new Map<string, string>();

function basePrefix(base: string): string {
  let prefix = basePrefixes.get(base);
  if (prefix === undefined) {
    const url = new URL(base);
    prefix = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    basePrefixes.set(base, prefix);
  }
  return prefix;
}

/** The path and query of an absolute request URL (a Request's URL is already normalised and has no fragment). */
export function pathAndQuery(requestUrl: string): string {
  const start = requestUrl.indexOf('/', requestUrl.indexOf('//') + 2);
  return start < 0 ? '/' : requestUrl.slice(start);
}

export function upstreamUrl(base: string, requestUrl: string): string {
  return basePrefix(base) + pathAndQuery(requestUrl);
}

export function upstreamRequestHeaders(incoming: Headers, target: UpstreamTarget, key: string): Record<string, string> {
  const listed = listedInConnection(incoming.get('connection'));
  const ownAuth = target.authHeader.toLowerCase();
  const headers: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (!NOT_RELAYED.has(name) && name !== ownAuth && !listed.includes(name)) headers[name] = value;
  });
  headers[ownAuth] = `${target.authPrefix}${key}`;
  return headers;
}

/** Cleans the upstream's response headers in place (they are the gateway's own copy). */
export function clientResponseHeaders(headers: ReplyHeaders, bodyDecoded: boolean): ReplyHeaders {
  if (headers instanceof Headers) {
    for (const name of [...HOP_BY_HOP, ...listedInConnection(headers.get('connection'))]) headers.delete(name);
    // fetch has already decoded a compressed body: its length and encoding no longer describe what we send.
    if (bodyDecoded && headers.has('content-encoding')) {
      headers.delete('content-encoding');
      headers.delete('content-length');
    }
    return headers;
  }
  for (const name of [...HOP_BY_HOP, ...listedInConnection(headers.connection)]) delete headers[name];
  if (bodyDecoded && headers['content-encoding'] !== undefined) {
    delete headers['content-encoding'];
    delete headers['content-length'];
  }
  return headers;
}

/** `bindings`: the host's per-request bindings (Hono's `c.env`), handed to the upstream client as they are. */
export async function forward(request: Request, target: UpstreamTarget, key: string, fetchImpl: UpstreamFetch, bindings?: unknown): Promise<Response> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? new Uint8Array(await request.arrayBuffer()) : undefined;
  const upstream = await fetchImpl(upstreamUrl(target.url, request.url), {
    method: request.method,
    headers: upstreamRequestHeaders(request.headers, target, key),
    ...(body ? { body } : {}),
    client: { request, bindings },
  });
  const headers = clientResponseHeaders(upstream.headers, fetchImpl.decodesBody);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}

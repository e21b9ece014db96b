/**
 * The Node host's upstream client: node:http with keep-alive, cheaper per request than undici's fetch
 * (npm run bench), and compressed bodies pass through untouched instead of being decoded and re-described.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { SMALL_BODY_BYTES, type ReplyHeaders, type UpstreamFetch, type UpstreamInit, type UpstreamReply } from './upstreamFetch.js';

const NULL_BODY = new Set([101, 204, 205, 304]);

/** node:http's parsed headers as a plain record; a `Headers` only when a field has several values (Set-Cookie). */
function replyHeaders(incoming: http.IncomingHttpHeaders): ReplyHeaders {
  const record: Record<string, string> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (typeof value === 'string') record[name] = value;
    else if (value?.length === 1) record[name] = value[0]!;
    else if (value) return severalValues(incoming);
  }
  return record;
}

function severalValues(incoming: http.IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) out.append(name, item);
  }
  return out;
}

/**
 * Calls `leave` if the client goes away before the exchange is over; returns the unsubscribe. Under the Node host
 * it watches the client's node:http response: the Request's AbortSignal costs ~15 µs per request more, most of it
 * in creating the signal (npm run bench). Elsewhere (another host, a test), the signal.
 */
function whenClientLeaves(client: UpstreamInit['client'], leave: () => void): () => void {
  const outgoing = (client.bindings as { outgoing?: unknown } | undefined)?.outgoing;
  if (outgoing instanceof http.ServerResponse) {
    if (outgoing.destroyed && !outgoing.writableFinished) {
      leave();
      return () => undefined;
    }
    const onClose = () => {
      if (!outgoing.writableFinished) leave();
    };
    outgoing.once('close', onClose);
    return () => outgoing.off('close', onClose);
  }
  const { signal } = client.request;
  if (signal.aborted) {
    leave();
    return () => undefined;
  }
  signal.addEventListener('abort', leave, { once: true });
  return () => signal.removeEventListener('abort', leave);
}

interface Origin {
  protocol: 'http:' | 'https:';
  hostname: string;
  port?: number;
  /** `user:password` written in the upstream URL, as node:http takes it from a URL. */
  auth?: string;
}

/** Parsed origins, by their text: the upstream has one, so it is parsed once rather than per request. */
const origins = new Map<string, Origin>();

function endpointOf(url: string): { protocol: Origin['protocol']; origin: Origin; path: string } {
  const pathAt = url.indexOf('/', url.indexOf('//') + 2);
  const originText = pathAt < 0 ? url : url.slice(0, pathAt);
  let origin = origins.get(originText);
  if (!origin) {
    const parsed = new URL(originText);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`unsupported upstream protocol ${parsed.protocol}`);
    origin = {
      protocol: parsed.protocol,
      // node:http wants an IPv6 address without its brackets.
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(parsed.port ? { port: Number(parsed.port) } : {}),
      ...(parsed.username || parsed.password ? { auth: `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` } : {}),
    };
    if (origins.size >= 64) origins.clear();
    origins.set(originText, origin);
  }
  return { protocol: origin.protocol, origin, path: pathAt < 0 ? '/' : url.slice(pathAt) };
}

export function nodeHttpFetch(): UpstreamFetch {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  const call = (url: string, init: UpstreamInit) =>
    new Promise<UpstreamReply>((resolve, reject) => {
      const target = endpointOf(url);
      const headers: Record<string, string> = { ...init.headers };
      if (init.body) headers['content-length'] = String(init.body.byteLength);
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request({ ...target.origin, path: target.path, method: init.method, headers, agent: agents[target.protocol as 'http:' | 'https:'] }, (res) => {
        const out = replyHeaders(res.headers);
        const status = res.statusCode ?? 502;
        const reply = { status, statusText: res.statusMessage ?? '', headers: out };
        if (NULL_BODY.has(status) || init.method === 'HEAD') {
          res.resume();
          resolve({ ...reply, body: null });
          return;
        }
        // A small body of announced length is collected as Node chunks: cheaper than a web stream read whole.
        const length = Number(res.headers['content-length'] ?? Number.NaN);
        if (length <= SMALL_BODY_BYTES) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ ...reply, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
          res.on('error', reject);
          res.on('close', () => {
            if (!res.complete) reject(new Error('upstream closed the response early'));
          });
          return;
        }
        resolve({ ...reply, body: Readable.toWeb(res) as ReadableStream<Uint8Array> });
      });
      req.on('error', reject);
      const unwatch = whenClientLeaves(init.client, () => req.destroy(new Error('the client went away')));
      req.once('close', unwatch);
      req.end(init.body);
    });
  return Object.assign(call, { decodesBody: false });
}

/**
 * What the upstream receives and what the client gets back: credentials swapped, bodies byte-exact, hop-by-hop
 * headers dropped, SSE streamed as it comes, CORS preflight from CORS_ORIGIN/CORS_EXTRA_HEADERS.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway, UPSTREAM_KEY, useCiAndUpstream, type RunningGateway } from './support.js';

const AUDIENCE = 'gw-fwd';
const lab = useCiAndUpstream();

// node: the Node host's node:http client; fetch: the runtime's fetch, as on Workers, Bun and Deno.
for (const client of ['node', 'fetch'] as const) describe(`gateway forwarding (upstream client: ${client})`, () => {
let gw: RunningGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    OIDC_ISSUER: lab.ci.issuer,
    OIDC_AUDIENCE: AUDIENCE,
    UPSTREAM_URL: lab.upstream.url,
    UPSTREAM_AUTH_HEADER: 'x-api-key',
    UPSTREAM_AUTH_PREFIX: '',
    CORS_ORIGIN: 'https://app.example',
    CORS_EXTRA_HEADERS: 'anthropic-version, X-Trace',
    MAX_REQUESTS_PER_TOKEN: '1000',
    RATE_LIMIT_PER_SECOND: '1000',
  }, { upstreamClient: client });
});

afterAll(async () => {
  await gw?.stop();
});

const token = () => lab.ci.mint({ aud: AUDIENCE });

/** node:http, so the test can send hop-by-hop headers fetch would refuse, and read the raw response headers. */
function rawRequest(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

  it('the upstream sees only the injected key: no client JWT, no client auth headers', async () => {
    const jwt = await token();
    const res = await call(gw.url, undefined, {
      path: '/v1/messages?beta=true',
      headers: { authorization: `Bearer ${jwt}`, 'x-api-key': jwt, cookie: 'session=abc', 'anthropic-version': '2023-06-01' },
    });
    expect(res.status).toBe(200);
    const seen = lab.upstream.requests.at(-1)!;
    expect(seen.url).toBe('/v1/messages?beta=true');
    expect(seen.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.rawHeaders.join('\n')).not.toContain(jwt.split('.')[2]);
  });

  it('a client-chosen key goes nowhere: the JWT by x-api-key, another key in Authorization', async () => {
    const res = await call(gw.url, undefined, { headers: { 'x-api-key': await token(), authorization: 'Bearer sk-client-chosen' } });
    expect(res.status).toBe(200);
    const seen = lab.upstream.requests.at(-1)!;
    expect(seen.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.rawHeaders.join('\n')).not.toContain('sk-client-chosen');
  });

  it('bodies are forwarded byte-exact (binary, odd whitespace, non-UTF-8)', async () => {
    const body = Buffer.concat([Buffer.from('{"model": "m",\r\n  "x":"é"}  \n'), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a])]);
    const res = await rawRequest(`${gw.url}/v1/upload`, { authorization: `Bearer ${await token()}`, 'content-type': 'application/octet-stream' }, body);
    expect(res.status).toBe(200);
    const seen = lab.upstream.requests.at(-1)!;
    expect(seen.body.equals(body)).toBe(true);
    expect(seen.headers['content-length']).toBe(String(body.length));
  });

  it('hop-by-hop headers are dropped both ways, including those named by Connection', async () => {
    const res = await rawRequest(
      `${gw.url}/v1/chat/completions`,
      { authorization: `Bearer ${await token()}`, connection: 'keep-alive, x-hop', 'x-hop': 'secret-hop', te: 'trailers', 'proxy-authorization': 'Basic x', 'x-end': 'kept' },
      Buffer.from('{}'),
    );
    expect(res.status).toBe(200);
    const seen = lab.upstream.requests.at(-1)!;
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers['x-end']).toBe('kept');
    // The upstream's keep-alive header is its own connection's business.
    expect(res.headers['x-upstream']).toBe('lab');
    expect(res.headers['keep-alive']).not.toBe('timeout=77');
    expect(res.headers['x-drop-me']).toBeUndefined();
  });

  it('the path and query reach the upstream as sent; several Set-Cookie fields come back as several', async () => {
    const res = await rawRequest(`${gw.url}/v1/cookies?a=1&b=%20x&c=%2F`, { authorization: `Bearer ${await token()}` }, Buffer.from('{}'));
    expect(res.status).toBe(200);
    expect(lab.upstream.requests.at(-1)!.url).toBe('/v1/cookies?a=1&b=%20x&c=%2F');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('a gzip-encoded upstream body reaches the client intact (passed through, or decoded and re-described)', async () => {
    const res = await call(gw.url, await token(), { path: '/v1/gzip' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ compressed: true, filler: 'x'.repeat(2000) });
  });

  it('an upstream reply cut short is a 502, never a hang or a truncated 200', async () => {
    const res = await call(gw.url, await token(), { path: '/v1/cut', signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'Upstream unreachable' });
  });

  it('a client that goes away before the answer takes the upstream call with it', async () => {
    const { received, abandoned } = lab.upstream.hold;
    const leaving = new AbortController();
    const pending = call(gw.url, await token(), { path: '/v1/hold', signal: leaving.signal }).then(() => 'answered', () => 'aborted');
    for (let i = 0; i < 250 && lab.upstream.hold.received === received; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lab.upstream.hold.received).toBe(received + 1);
    expect(lab.upstream.hold.abandoned).toBe(abandoned);
    leaving.abort();
    expect(await pending).toBe('aborted');
    for (let i = 0; i < 250 && lab.upstream.hold.abandoned === abandoned; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lab.upstream.hold.abandoned).toBe(abandoned + 1);
  });

  it('upstream statuses come back as they are', async () => {
    const res = await call(gw.url, await token(), { path: '/status/418' });
    expect(res.status).toBe(418);
  });

  it('SSE: the first event reaches the client while the upstream is still sending', async () => {
    const res = await call(gw.url, await token(), { path: '/v1/sse' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('{"first":true}');
    // Only now may the upstream finish: had the gateway buffered, the read above would never have returned.
    lab.upstream.releaseStream();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain('[DONE]');
  });

  it('CORS preflight from CORS_ORIGIN and CORS_EXTRA_HEADERS; other origins get none', async () => {
    const pre = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, anthropic-version' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const allowed = pre.headers.get('access-control-allow-headers')!.split(', ');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-api-key', 'anthropic-version', 'x-trace']));
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(lab.upstream.requests.some((r) => r.method === 'OPTIONS')).toBe(false);

    const stranger = await fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(stranger.status).toBe(403);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();

    const actual = await call(gw.url, await token(), { headers: { origin: 'https://app.example' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const refused = await call(gw.url, 'bad', { headers: { origin: 'https://app.example' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin'), 'a browser can read the 401').toBe('https://app.example');
  });

  it('without CORS_ORIGIN a preflight is not answered with CORS headers', async () => {
    const plain = await startTestGateway({ OIDC_ISSUER: lab.ci.issuer, OIDC_AUDIENCE: AUDIENCE, UPSTREAM_URL: lab.upstream.url });
    try {
      const pre = await fetch(`${plain.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.status).toBe(404);
    } finally {
      await plain.stop();
    }
  });

  it('upstream down: 502, after the budget was checked', async () => {
    const dead = await startTestGateway({ OIDC_ISSUER: lab.ci.issuer, OIDC_AUDIENCE: AUDIENCE, UPSTREAM_URL: 'http://127.0.0.1:9' });
    try {
      const res = await call(dead.url, await token());
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ error: 'Upstream unreachable' });
    } finally {
      await dead.stop();
    }
  });
});

/**
 * Real parts for the gateway tests: a redis-server on a free 127.0.0.1 port, a recording upstream, and the
 * gateway itself on the Node host. Every server is stopped by the test that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll } from 'vitest';
import { startCiIssuer, type CiIssuer } from '../../lab/index.mjs';
import { createGateway, loadGatewayConfig, serveNode, type CreateGatewayOptions, type Gateway, type NodeHost } from '../../src/gateway/index.js';

export const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** redis-server from Debian, no persistence, stopped (SIGTERM, then SIGKILL) by `stop`. */
export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      const timer = setTimeout(() => resolve(false), 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopChild(child) };
    await stopChild(child);
  }
  throw new Error('redis-server did not start (is it installed? apt-get install -y redis-server)');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface RecordingUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Let the held `/sse` stream finish. */
  releaseStream(): void;
  /** `/hold` requests received (never answered), and those whose connection was closed by the caller. */
  hold: { received: number; abandoned: number };
  stop(): Promise<void>;
}

/**
 * An upstream on 127.0.0.1 that records every request. `/sse` sends one event, then holds the stream open
 * until `releaseStream()`; `/status/<n>` answers n; everything else echoes a small JSON.
 */
export async function startUpstream(): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const hold = { received: 0, abandoned: 0 };
  let release: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      if (req.url === '/v1/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'keep-alive': 'timeout=5' });
        res.write('data: {"first":true}\n\n');
        const finish = () => {
          res.write('data: [DONE]\n\n');
          res.end();
        };
        release = finish;
        return;
      }
      if (req.url === '/v1/cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial"');
        setImmediate(() => res.socket?.destroy());
        return;
      }
      if (req.url === '/v1/hold') {
        hold.received += 1;
        res.on('close', () => {
          hold.abandoned += 1;
        });
        return;
      }
      if (req.url?.startsWith('/v1/cookies')) {
        res.writeHead(200, [['content-type', 'application/json'], ['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2; Path=/']]);
        res.end('{}');
        return;
      }
      if (req.url === '/v1/gzip') {
        const zipped = gzipSync(JSON.stringify({ compressed: true, filler: 'x'.repeat(2000) }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(zipped.length) });
        res.end(zipped);
        return;
      }
      const status = /^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1];
      res.writeHead(status ? Number(status) : 200, { 'content-type': 'application/json', 'x-upstream': 'lab', 'keep-alive': 'timeout=77', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1' });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold,
    releaseStream() {
      release?.();
      release = undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The lab's CI issuer and a recording upstream, started before the tests of the calling file (or describe block)
 * and stopped after them. The fields are set once `beforeAll` has run.
 */
export function useCiAndUpstream(): { ci: CiIssuer; upstream: RecordingUpstream } {
  const lab = {} as { ci: CiIssuer; upstream: RecordingUpstream };
  beforeAll(async () => {
    [lab.ci, lab.upstream] = await Promise.all([startCiIssuer(), startUpstream()]);
  });
  afterAll(async () => {
    await Promise.all([lab.ci?.stop(), lab.upstream?.stop()]);
  });
  return lab;
}

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  host: NodeHost;
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startTestGateway(
  env: Record<string, string | undefined>,
  options: CreateGatewayOptions & { file?: unknown } = {},
): Promise<RunningGateway> {
  const logs: Array<Record<string, unknown>> = [];
  const { file, ...rest } = options;
  const config = loadGatewayConfig({ UPSTREAM_AUTH_HEADER: 'authorization', UPSTREAM_AUTH_PREFIX: 'Bearer ', UPSTREAM_API_KEY: UPSTREAM_KEY, PORT: '0', ...env }, file);
  const gateway = await createGateway(config, { logger: (entry) => logs.push(entry as Record<string, unknown>), fetchTimeoutMs: 2000, ...rest });
  const host = await serveNode(gateway, { port: 0, host: '127.0.0.1' });
  return {
    url: host.url,
    gateway,
    host,
    logs,
    async stop() {
      await host.close();
      await gateway.close();
    },
  };
}

/** A JSON POST through the gateway with the token as a bearer. */
export function call(url: string, token: string | undefined, init: RequestInit & { path?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== undefined && !headers.has('x-api-key')) headers.set('authorization', `Bearer ${token}`);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(`${url}${init.path ?? '/v1/chat/completions'}`, {
    method: init.method ?? 'POST',
    ...init,
    headers,
    body: init.method === 'GET' ? undefined : init.body ?? '{"model":"m","messages":[]}',
  });
}

export interface KeyServer {
  issuer: string;
  counters: { discovery: number; jwks: number };
  /** Serve these status codes instead of the documents (0 = serve normally). */
  fail: { discovery: number; jwks: number };
  /** Sign a token with the current key (or `kid`'s key); `claims` override the defaults. */
  sign(claims?: Record<string, unknown>, options?: { kid?: string; header?: Record<string, unknown> }): Promise<string>;
  /** A new current key; `keepOld` serves the previous one too. */
  rotate(keepOld?: boolean): Promise<string>;
  currentKid: string;
  stop(): Promise<void>;
}

/**
 * An issuer whose keys the test controls (for rotation, EdDSA/RS256, a forged `iss`, JWKS outages): the lab's
 * CI issuer signs the ordinary tokens, this one the crafted ones.
 */
export async function startKeyServer(alg: 'ES256' | 'RS256' | 'EdDSA' | 'PS256' = 'ES256'): Promise<KeyServer> {
  const jose = await import('jose');
  const keys = new Map<string, { privateKey: import('jose').CryptoKey; jwk: Record<string, unknown> }>();
  let served: string[] = [];
  let counter = 0;
  const addKey = async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const kid = `k${++counter}-${alg}`;
    keys.set(kid, { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' } });
    return kid;
  };
  const state = { currentKid: await addKey() };
  served = [state.currentKid];
  const counters = { discovery: 0, jwks: 0 };
  const fail = { discovery: 0, jwks: 0 };
  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      counters.discovery += 1;
      if (fail.discovery) return send(fail.discovery, { error: 'down' });
      return send(200, { issuer, jwks_uri: `${issuer}/jwks` });
    }
    if (req.url === '/jwks') {
      counters.jwks += 1;
      if (fail.jwks) return send(fail.jwks, { error: 'down' });
      return send(200, { keys: served.map((kid) => keys.get(kid)!.jwk) });
    }
    send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    issuer,
    counters,
    fail,
    get currentKid() {
      return state.currentKid;
    },
    async sign(claims = {}, options = {}) {
      const kid = options.kid ?? state.currentKid;
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ iss: issuer, aud: 'gw-test', sub: 'repo:octo-org/octo-repo:ref:refs/heads/main', iat: now, exp: now + 300,
        jti: `jti-${Math.random().toString(36).slice(2)}`, repository: 'octo-org/octo-repo', ref: 'refs/heads/main', ...claims })
        .setProtectedHeader({ alg, kid, typ: 'JWT', ...options.header })
        .sign(keys.get(kid)!.privateKey);
    },
    async rotate(keepOld = false) {
      const kid = await addKey();
      served = keepOld ? [...served, kid] : [kid];
      state.currentKid = kid;
      return kid;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A server that accepts connections and never answers: the hung issuer. */
export async function startHungServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  form: URLSearchParams;
}

/** A scripted answer. It may leave the response open (a hung IdP) or destroy the socket (a reset). */
export type Script = (request: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

/**
 * A tiny IdP impostor on 127.0.0.1: each path has a queue of scripted answers, consumed in order, the
 * last one repeating. Unscripted paths answer 404. It plays the faulty servers real IdPs sometimes are.
 */
export interface ScriptedServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Requests to one path. */
  seen(path: string): SeenRequest[];
  script(path: string, ...answers: Script[]): void;
  close(): Promise<void>;
}

export async function startScriptedServer(port = 0): Promise<ScriptedServer> {
  const scripts = new Map<string, Script[]>();
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const seen: SeenRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, form: new URLSearchParams(body) };
      requests.push(seen);
      const queue = scripts.get(path);
      const answer = queue && queue.length > 1 ? queue.shift()! : queue?.[0];
      if (!answer) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      void Promise.resolve(answer(seen, res, req)).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    seen: (path) => requests.filter((r) => r.path === path),
    script: (path, ...answers) => {
      scripts.set(path, answers);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A free port that nothing listens on (connections to it are refused). */
export async function refusedPort(): Promise<number> {
  const probe = await startScriptedServer();
  const port = probe.port;
  await probe.close();
  return port;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
}

export function text(status: number, body: string, contentType = 'text/plain', headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType, ...headers }).end(body);
  };
}

/** Never answers: a hung IdP. */
export const hang: Script = () => {};

/** Reads the request and drops the connection without a word: a reset after the request was sent. */
export const reset: Script = (_req, res) => {
  res.socket?.destroy();
};

export function redirect(status: number, location: string): Script {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}

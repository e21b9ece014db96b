/** The Node host: the fetch app on node:http through @hono/node-server (keep-alive, streamed bodies). */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface NodeHost {
  /** `http://<host>:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export function serveNode(
  gateway: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  options: { port: number; host: string },
): Promise<NodeHost> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: gateway.fetch, port: options.port, hostname: options.host }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            const http = server as import('node:http').Server;
            http.close(() => done());
            http.closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}

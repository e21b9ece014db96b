import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenError } from '../../errors.js';
import { classifyCallback, type CallbackExpectation, type CallbackResult, type StrayReason } from '../../machines/flowCallback.js';
import { callbackPage } from './pages.js';

export { callbackPage, escapeHtml } from './pages.js';

import { DEFAULT_REDIRECT_PATH } from '../../constants.js';
export { DEFAULT_REDIRECT_PATH };
/** RFC 8252 §8.3: the literal loopback IP, never `localhost` (which may resolve elsewhere). */
export const LOOPBACK_HOST = '127.0.0.1';

export type AuthorizationResponse = Exclude<CallbackResult, { kind: 'stray' }>;

export interface LoopbackOptions {
  providerId: string;
  /** 0 or undefined: a free port chosen by the OS. */
  port?: number;
  path?: string;
}

export interface WaitForCallbackOptions {
  expectedState: string;
  /** RFC 9207: the issuer the request went to; `iss` must match it when present. */
  issuer?: string;
  /** The server advertises `iss` on responses: its absence is refused. */
  issuerRequired?: boolean;
  /** Epoch ms after which waiting ends with a `timeout` TokenError. */
  deadline?: number;
  signal?: AbortSignal;
  /** Called for every ignored request (favicon, prefetch, an old tab, a forged state). */
  onStray?: (reason: StrayReason) => void;
  /** Clock for `deadline`; default Date.now. */
  now?: () => number;
}

export interface LoopbackServer {
  redirectUri: string;
  port: number;
  /** The first authorization response carrying the expected state (code, IdP error or issuer mismatch). */
  waitForCallback(options: WaitForCallbackOptions): Promise<AuthorizationResponse>;
  close(): Promise<void>;
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'close',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'",
};

function answer(res: ServerResponse, status: number, html: string, method: string | undefined): void {
  res.writeHead(status, HEADERS);
  res.end(method === 'HEAD' ? undefined : html);
}

/**
 * The redirect target of a browser login: an HTTP server on 127.0.0.1 only, answering every request
 * with a small no-store page. Requests that are not the pending login's response are answered and
 * ignored, so a favicon fetch, a link prefetch or an old tab cannot end the login.
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export async function startLoopbackServer(options: LoopbackOptions): Promise<LoopbackServer> {
  const path = options.path ?? DEFAULT_REDIRECT_PATH;
  const port = options.port ?? 0;
  let waiter: { expected: CallbackExpectation; options: WaitForCallbackOptions; settle(result: AuthorizationResponse): void } | undefined;
  let finished = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, callbackPage({ kind: 'stray', reason: 'wrong_path' }).html, req.method);
      waiter?.options.onStray?.('wrong_path');
      return;
    }
    if (finished && url.pathname === path) {
      const { status, html } = callbackPage({ kind: 'finished' });
      answer(res, status, html, req.method);
      return;
    }
    // Nobody waits yet: nothing can match, but the request must still get an answer.
    const result = waiter ? classifyCallback(url, waiter.expected) : classifyCallback(url, { path, state: '\u0000no login pending' });
    const { status, html } = callbackPage(result);
    answer(res, status, html, req.method);
    if (result.kind === 'stray') waiter?.options.onStray?.(result.reason);
    else if (waiter) waiter.settle(result);
  };

  // node:http is loaded on the first browser login, not at start.
  const { createServer } = await import('node:http');
  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new TokenError({
            code: 'config',
            providerId: options.providerId,
            message: `loopback port ${port} on ${LOOPBACK_HOST} is already in use`,
            fix: `close the program using port ${port}, or set redirectPort to a free port registered with the IdP (0 picks a random one if the IdP allows any loopback port)`,
            cause: error,
          }),
        );
      } else if (error.code === 'EACCES') {
        reject(
          new TokenError({
            code: 'config',
            providerId: options.providerId,
            message: `not allowed to listen on ${LOOPBACK_HOST}:${port}`,
            fix: 'choose a redirectPort above 1023',
            cause: error,
          }),
        );
      } else {
        reject(new TokenError({ code: 'config', providerId: options.providerId, message: `could not start the loopback server (${error.code ?? error.name})`, cause: error }));
      }
    });
    server.listen(port, LOOPBACK_HOST, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const redirectUri = `http://${LOOPBACK_HOST}:${actualPort}${path}`;

  const close = () =>
    new Promise<void>((resolve) => {
      finished = true;
      server.close(() => resolve());
      // Browsers keep connections alive; without this `close` would wait for them.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });

  return {
    redirectUri,
    port: actualPort,
    close,
    waitForCallback(wait) {
      return new Promise<AuthorizationResponse>((resolve, reject) => {
        const now = wait.now ?? Date.now;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          wait.signal?.removeEventListener('abort', onAbort);
          waiter = undefined;
        };
        const onAbort = () => {
          cleanup();
          reject(new TokenError({ code: 'evicted', providerId: options.providerId, message: 'the login was cancelled' }));
        };
        if (wait.signal?.aborted) return onAbort();
        wait.signal?.addEventListener('abort', onAbort, { once: true });
        if (wait.deadline !== undefined) {
          timer = setTimeout(
            () => {
              cleanup();
              reject(
                new TokenError({
                  code: 'timeout',
                  providerId: options.providerId,
                  message: 'no login callback arrived before the deadline',
                  fix: 'finish the login in the browser sooner, or raise loginTimeoutSec',
                }),
              );
            },
            Math.max(0, wait.deadline - now()),
          );
        }
        waiter = {
          expected: {
            path,
            state: wait.expectedState,
            ...(wait.issuer !== undefined ? { issuer: wait.issuer } : {}),
            ...(wait.issuerRequired ? { issuerRequired: true } : {}),
          },
          options: wait,
          settle: (result) => {
            finished = true;
            cleanup();
            resolve(result);
          },
        };
      });
    },
  };
}

import type { InspectionEvent } from 'xstate';
import type { Logger } from '../adapters/logger.js';
import { redactFields, redactUrl } from '../adapters/redact.js';

/**
 * Stately inspector, opt-in: `OPENCODE_OAUTH_INSPECT=ws://127.0.0.1:PORT` (a relay such as
 * `createInspectorServer` from `@statelyai/inspect/server`). Nothing is imported while the variable is unset.
 *
 * Two fixes over the stock WebSocket inspector:
 * - Redaction happens in `serialize`, over the whole event. `sanitizeContext`/`sanitizeEvent` only see the
 *   machine's context and event, while an invoked actor's snapshot (its input and output) carries refresh
 *   and access tokens.
 * - Our adapter's reconnect timer is unref'd and cancelled by `stop()`; the stock one keeps a CLI alive.
 */

export const INSPECT_ENV = 'OPENCODE_OAUTH_INSPECT';

/** The event as the inspector receives it (a loose view of @statelyai/inspect's StatelyInspectionEvent). */
export type StatelyEvent = { type: string; [key: string]: unknown };

export interface InspectorAdapter {
  start?: () => void;
  stop?: () => void;
  send(event: StatelyEvent): void;
}

export interface RedactingInspector {
  inspect: (event: InspectionEvent) => void;
  stop(): void;
}

/** Live actor internals that are either huge, circular, or carry nothing the inspector draws. */
const SKIPPED_KEYS = new Set(['system', '_parent', 'logic', 'machine', '_actorScope', 'mailbox', 'observers', 'eventListeners', '_systemId', 'clock', 'src']);

/** A cycle-safe, depth-limited plain copy (live snapshots and actor refs are circular), secrets redacted. */
export function redactInspectionEvent<T>(event: T, depthLimit = 10): T {
  const seen = new WeakSet<object>();
  const plain = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : typeof value === 'bigint' ? String(value) : value;
    if (seen.has(value)) return '[circular]';
    if (depth >= depthLimit) return '[depth]';
    if (value instanceof Error) return { name: value.name, message: value.message, ...(('code' in value) ? { code: (value as { code: unknown }).code } : {}) };
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !Array.isArray(value)) {
      try {
        return plain((value as { toJSON(): unknown }).toJSON(), depth + 1);
      } catch {
        return '[unserialisable]';
      }
    }
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => plain(item, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (SKIPPED_KEYS.has(key)) continue;
        const copied = plain(item, depth + 1);
        if (copied !== undefined) out[key] = copied;
      }
      return out;
    } finally {
      seen.delete(value);
    }
  };
  return redactFields(plain(event, 0), { scrubStrings: true, maxDepth: depthLimit + 2 }) as T;
}

type WebSocketLike = {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener?(type: string, listener: (...args: unknown[]) => void): void;
  on?(type: string, listener: (...args: unknown[]) => void): void;
};
type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;
const MAX_QUEUED = 200;
const RECONNECT_MS = 5_000;

/** A WebSocket adapter whose reconnect never keeps the process alive. Bun has WebSocket built in; Node 20 uses `ws`. */
export function createWebSocketAdapter(url: string, WebSocketImpl: WebSocketConstructor, logger?: Logger): InspectorAdapter {
  let socket: WebSocketLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const queue: string[] = [];
  const listen = (ws: WebSocketLike, type: string, listener: (...args: unknown[]) => void) =>
    ws.addEventListener ? ws.addEventListener(type, listener) : ws.on?.(type, listener);
  const connect = () => {
    if (stopped) return;
    try {
      const ws = new WebSocketImpl(url);
      socket = ws;
      listen(ws, 'open', () => {
        while (queue.length > 0 && ws.readyState === OPEN) ws.send(queue.shift()!);
      });
      listen(ws, 'close', () => schedule());
      listen(ws, 'error', () => {
        logger?.debug('inspector_connect_failed', { url: redactUrl(url) });
      });
    } catch {
      schedule();
    }
  };
  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect();
    }, RECONNECT_MS);
    (timer as { unref?: () => void }).unref?.();
  };
  return {
    start: connect,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      try {
        socket?.close();
      } catch {
        // already closed
      }
    },
    send(event) {
      const text = JSON.stringify(event);
      if (socket?.readyState === OPEN) socket.send(text);
      else {
        queue.push(text);
        if (queue.length > MAX_QUEUED) queue.shift();
      }
    },
  };
}

type InspectModule = {
  createInspector(adapter: InspectorAdapter, options: { serialize(event: StatelyEvent): StatelyEvent }): {
    inspect: { next?: (event: InspectionEvent) => void };
    start(): void;
    stop(): void;
  };
};

/** An inspector over any adapter, every event redacted before the adapter sees it. */
export function createRedactingInspector(module: InspectModule, adapter: InspectorAdapter): RedactingInspector {
  const inspector = module.createInspector(adapter, { serialize: (event) => redactInspectionEvent(event) });
  // createInspector never starts its adapter by itself: without this the socket is never opened.
  inspector.start();
  return {
    inspect: (event) => inspector.inspect.next?.(event),
    stop: () => inspector.stop(),
  };
}

/**
 * The inspector the env asks for, or undefined (unset, or the optional peer is missing: one warning).
 * `importModule` exists for tests.
 */
export async function inspectorFromEnv(
  env: Record<string, string | undefined>,
  logger: Logger,
  importModule: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<RedactingInspector | undefined> {
  const url = env[INSPECT_ENV]?.trim();
  if (!url) return undefined;
  if (!/^wss?:\/\//.test(url)) {
    logger.warn('inspector_disabled', { reason: `${INSPECT_ENV} must be a ws:// or wss:// URL` });
    return undefined;
  }
  let module: InspectModule;
  try {
    module = (await importModule('@statelyai/inspect')) as InspectModule;
  } catch {
    logger.warn('inspector_disabled', { reason: '@statelyai/inspect is not installed (npm i -D @statelyai/inspect)' });
    return undefined;
  }
  let WebSocketImpl = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) {
    try {
      WebSocketImpl = ((await importModule('ws')) as { default: WebSocketConstructor }).default;
    } catch {
      logger.warn('inspector_disabled', { reason: 'no WebSocket implementation (Node < 22 needs the ws package)' });
      return undefined;
    }
  }
  logger.info('inspector_enabled', { url: redactUrl(url) });
  return createRedactingInspector(module, createWebSocketAdapter(url, WebSocketImpl, logger));
}

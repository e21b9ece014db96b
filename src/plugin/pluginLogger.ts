import { createRedactingLogger } from '../adapters/consoleLogger.js';
import type { LogLevel, Logger } from '../adapters/logger.js';
import type { RuntimeLogLevel } from '../config/index.js';
import type { OpencodeClientLike } from './opencodeTypes.js';

/** OpenCode 1.18 does not print `service`, so every message carries the plugin's name itself. */
export const SERVICE = 'opencode-oauth-machines';
export const LOG_PREFIX = `${SERVICE}: `;

const RANK: Record<RuntimeLogLevel, number> = { trace: 5, debug: 10, info: 20, warn: 30, error: 40 };

export interface PluginLogger extends Logger {
  /** The minimum level; changes when the config says so (plugin `logLevel`, else OpenCode's). */
  setLevel(level: RuntimeLogLevel): void;
  /** The client whose `app.log` receives the lines (the latest OpenCode instance that loaded the plugin). */
  setClient(client: OpencodeClientLike): void;
  /** Sees every event before level filtering (the shell reacts to engine events such as `token_renewed`). */
  onEvent(listener: (event: string, fields: Record<string, unknown>) => void): () => void;
}

/**
 * Logs through `client.app.log`, fire-and-forget: a failing or missing client never fails a request.
 * Fields are redacted by name and by shape before they leave (createRedactingLogger).
 */
export function createPluginLogger(client: OpencodeClientLike, level: RuntimeLogLevel = 'info'): PluginLogger {
  let current = client;
  let minRank = RANK[level];
  const listeners = new Set<(event: string, fields: Record<string, unknown>) => void>();
  const redacting = createRedactingLogger((lvl, event, fields) => {
    const log = current.app?.log;
    if (typeof log !== 'function') return;
    void Promise.resolve()
      .then(() =>
        log.call(current.app, {
          body: { service: SERVICE, level: lvl, message: `${LOG_PREFIX}${event}`, ...(Object.keys(fields).length ? { extra: fields } : {}) },
        }),
      )
      .catch(() => {});
  }, 'debug');
  const emit = (lvl: LogLevel) => (event: string, fields: Record<string, unknown> = {}) => {
    for (const listener of listeners) {
      try {
        listener(event, fields);
      } catch {
        // a listener must not break logging
      }
    }
    if (RANK[lvl] < minRank) return;
    redacting[lvl](event, fields);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    setLevel(next) {
      minRank = RANK[next];
    },
    setClient(next) {
      current = next;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

import { TokenError } from '../../errors.js';
import { withRedaction } from '../consoleLogger.js';
import { silentLogger, type Logger } from '../logger.js';
import { createHttpClient, type HttpClient } from './client.js';
import { defaultSleep, type RetryEnv } from './retry.js';
import { createServerClock, type ServerClock } from './serverClock.js';
import type { HttpDeps } from './types.js';

/** Per-attempt timeout when neither the request nor the adapter sets one. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** HttpDeps with every default filled in and the ky instance built once, on first use. */
export interface HttpEnv extends RetryEnv {
  client: HttpClient;
  timeoutMs: number;
  logger: Logger;
  serverClock: ServerClock;
}

export function resolveHttpEnv(deps: HttpDeps = {}): HttpEnv {
  return {
    client: createHttpClient(deps.fetch),
    sleep: deps.sleep ?? defaultSleep,
    random: deps.random ?? Math.random,
    now: deps.now ?? Date.now,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logger: deps.logger ? withRedaction(deps.logger) : silentLogger,
    serverClock: createServerClock(),
  };
}

/** An absolute http(s) URL without userinfo or fragment, or a `config` TokenError naming the field. */
export function requireEndpointUrl(value: unknown, field: string, providerId: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TokenError({
      code: 'config',
      providerId,
      message: `"${field}" must be an absolute http(s) URL`,
      fix: `set ${field} to the full URL, e.g. https://idp.example.com/oauth2/token`,
    });
  }
  if (url.username || url.password || url.hash) {
    throw new TokenError({
      code: 'config',
      providerId,
      message: `"${field}" must not carry credentials or a fragment`,
      fix: `remove user:password@ and #… from ${field}; client credentials belong in clientAuth`,
    });
  }
  return url;
}

import { fromPromise } from 'xstate';
import type { Logger } from '../adapters/logger.js';
import { discoverModels, ModelDiscoveryError } from '../adapters/models/index.js';
import { TokenError } from '../errors.js';
import { credentialHeaders } from '../flows/index.js';
import type { FetchModelsInput, SyncedModel, TokenLookupInput } from '../machines/modelSync.js';
import type { TokenSet } from '../machines/token.js';

/** One provider's gateway model list, as the engine keeps it current (OpenCode's `baseURL` and friends). */
export interface ModelSyncSettings {
  baseURL: string;
  /** Where the list is, when not `<baseURL>/models`. */
  modelsPath?: string;
  /** Between two successful syncs. */
  intervalMs: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** The last good list of an earlier run, served until a sync replaces it. */
  lastKnown?: readonly SyncedModel[] | null;
}

interface TokenSource {
  getToken(providerId: string, options: { interactive: false; timeoutMs: number }): Promise<TokenSet>;
  tokenRejected(providerId: string, accessToken: string): void;
}

/** modelSync's two actors, once for every provider: each runs for the provider named in its input. */
export function modelSyncActors(settingsOf: (providerId: string) => ModelSyncSettings | undefined, tokens: TokenSource, logger: Logger) {
  const settings = (providerId: string) => {
    const found = settingsOf(providerId);
    if (!found) throw new TokenError({ code: 'config', providerId, message: 'has no model sync configured' });
    return found;
  };
  return {
    // Never interactive: a user flow without a stored token makes the machine wait for a login.
    lookupToken: fromPromise<unknown, TokenLookupInput>(({ input }) =>
      tokens.getToken(input.providerId, { interactive: false, timeoutMs: Math.max((settings(input.providerId).timeoutMs ?? 10_000) * 2, 10_000) }),
    ),
    fetchModels: fromPromise<SyncedModel[], FetchModelsInput>(async ({ input }) => {
      const { baseURL, modelsPath, timeoutMs } = settings(input.providerId);
      const token = input.credential as TokenSet;
      try {
        const { models } = await discoverModels({
          baseURL,
          ...(modelsPath ? { modelsPath } : {}),
          providerId: input.providerId,
          headers: credentialHeaders(token),
          timeoutMs: timeoutMs ?? 10_000,
          logger,
        });
        return models.map((model) => ({ ...model }));
      } catch (error) {
        // The gateway refused this very token: let the lifecycle renew it (compare-and-invalidate).
        if (error instanceof ModelDiscoveryError && error.code === 'unauthorized') tokens.tokenRejected(input.providerId, token.accessToken);
        throw error;
      }
    }),
  };
}

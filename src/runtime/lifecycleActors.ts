import { fromCallback, fromPromise } from 'xstate';
import { resolveMetadata } from '../adapters/http/discovery.js';
import type { ServerMetadata, TokenEndpointAdapter } from '../adapters/http/types.js';
import type { Logger } from '../adapters/logger.js';
import { storeKey } from '../adapters/storage/storeKey.js';
import type { TokenStore } from '../adapters/storage/types.js';
import { toErrorInfo } from '../errors.js';
import { createAcquireLogic, type FlowDeps, type FlowNotice } from '../flows/index.js';
import type {
  AcquireInput,
  LifecycleEvent,
  LogoutInput,
  PersistInput,
  RefreshInput,
  RenewInput,
  StoredToken,
} from '../machines/tokenLifecycle.js';
import type { TokenSet } from '../machines/token.js';
import type { ProviderSettings } from './providerSettings.js';

export interface LifecycleDeps {
  store: TokenStore;
  http: TokenEndpointAdapter;
  flowDeps: FlowDeps;
  logger: Logger;
  now: () => number;
  notify: (notice: FlowNotice) => void;
  /** Bounded wait for another process's renewal; then `lock_timeout`, never an unlocked renewal. */
  lockWaitMs: number;
}

/**
 * The real effects behind tokenLifecycle's named actors, for one provider: the store and its lock,
 * the refresh grant, the acquisition flow and logout (RFC 7009 revocation, then delete).
 */
export function lifecycleActors(settings: ProviderSettings, deps: LifecycleDeps) {
  const key = storeKey(settings.storeKey);
  const { providerId, flowConfig } = settings;

  const metadata = (needs: Parameters<typeof resolveMetadata>[3]['needs'] = []): Promise<ServerMetadata> =>
    resolveMetadata(flowConfig.issuer, flowConfig.endpoints ?? {}, deps.http, { providerId, needs, timeoutMs: flowConfig.httpTimeoutMs });

  return {
    readStore: fromPromise<StoredToken | undefined, RenewInput>(async () => {
      const record = await deps.store.read(key);
      if (!record) return undefined;
      return {
        generation: record.generation,
        ...(record.token ? { token: record.token } : {}),
        ...(record.tombstone ? { tombstone: record.tombstone } : {}),
      };
    }),

    holdLock: fromCallback<LifecycleEvent, RenewInput>(({ sendBack }) => {
      let released = false;
      let release: (() => Promise<void>) | undefined;
      deps.store.lock(key, { waitMs: deps.lockWaitMs }).then(
        (handle) => {
          if (released) return void handle.release();
          release = () => handle.release();
          sendBack({ type: 'LOCK.ACQUIRED' });
        },
        (error: unknown) => {
          if (!released) sendBack({ type: 'LOCK.FAILED', error: toErrorInfo(providerId, error) });
        },
      );
      // Leaving the renewal states, by any way, gives the lock back.
      return () => {
        released = true;
        release?.().catch((error: unknown) => deps.logger.warn('lock_release_failed', { providerId, error: toErrorInfo(providerId, error) }));
      };
    }),

    refreshToken: fromPromise<TokenSet, RefreshInput>(async ({ input, signal }) => {
      const { tokenEndpoint, issuer } = await metadata();
      return deps.http.requestToken({
        providerId,
        tokenEndpoint,
        issuer,
        grantType: 'refresh_token',
        params: { refresh_token: input.refreshToken, resource: flowConfig.resource?.[0] },
        clientAuth: flowConfig.clientAuth,
        oneShot: true,
        signal,
        now: deps.now,
        ...(flowConfig.httpTimeoutMs !== undefined ? { timeoutMs: flowConfig.httpTimeoutMs } : {}),
        ...(flowConfig.assumedLifetimeSec !== undefined ? { assumedLifetimeSec: flowConfig.assumedLifetimeSec } : {}),
      });
    }),

    acquireToken: createAcquireLogic<AcquireInput>(
      (input) => ({ ...flowConfig, interactive: input.interactive, notify: deps.notify }),
      deps.flowDeps,
    ),

    writeStore: fromPromise<StoredToken, PersistInput>(async ({ input }) => {
      const next = input.tombstone
        ? // Retiring: only the tombstone changes; the stored token is left exactly as it was.
          { tombstone: { reason: input.tombstone.reason, at: deps.now(), generation: input.expectedGeneration + 1 } }
        : { token: input.token };
      const record = await deps.store.write(key, next, input.expectedGeneration);
      return { generation: record.generation };
    }),

    logout: fromPromise<void, LogoutInput>(async () => {
      const record = await deps.store.read(key).catch(() => undefined);
      const token = record?.token;
      if (token && settings.flow !== 'passthrough') await revokeQuietly(token, settings, deps, metadata);
      await deps.store.delete(key);
    }),
  };
}

async function revokeQuietly(
  token: TokenSet,
  settings: ProviderSettings,
  deps: LifecycleDeps,
  metadata: (needs: ['revocationEndpoint']) => Promise<ServerMetadata>,
) {
  const { providerId, flowConfig } = settings;
  try {
    const { revocationEndpoint } = await metadata(['revocationEndpoint']);
    if (!revocationEndpoint) return;
    // The refresh token first: revoking it usually ends the whole grant, access token included.
    const tokens: [string, 'refresh_token' | 'access_token'][] = [];
    if (token.refreshToken) tokens.push([token.refreshToken, 'refresh_token']);
    tokens.push([token.accessToken, 'access_token']);
    for (const [value, tokenTypeHint] of tokens) {
      await deps.http.revoke({ providerId, endpoint: revocationEndpoint, clientAuth: flowConfig.clientAuth, token: value, tokenTypeHint });
    }
    deps.logger.info('token_revoked', { providerId });
  } catch (error) {
    // Logout must still delete locally when the IdP cannot be reached.
    deps.logger.warn('token_revocation_failed', { providerId, error: toErrorInfo(providerId, error) });
  }
}

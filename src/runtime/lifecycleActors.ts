import { fromPromise } from 'xstate';
import { callTokenEndpoint, metadataFor } from '../flows/actors.js';
import type { MetadataNeed, ServerMetadata, TokenEndpointAdapter } from '../adapters/http/types.js';
import type { Logger } from '../adapters/logger.js';
import { storeKey } from '../adapters/storage/storeKey.js';
import type { LockHandle, TokenStore } from '../adapters/storage/types.js';
import { TokenError, toErrorInfo } from '../errors.js';
import type {
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
  logger: Logger;
  now: () => number;
  /** Bounded wait for another process's renewal; then `lock_timeout`, never an unlocked renewal. */
  lockWaitMs: number;
}

/** One provider's effects: what tokenLifecycle's named actors do for it, as plain functions. */
export interface LifecycleEffects {
  readStore(): Promise<StoredToken | undefined>;
  lock(): Promise<LockHandle>;
  refresh(refreshToken: string, signal: AbortSignal): Promise<TokenSet>;
  write(input: PersistInput): Promise<StoredToken>;
  logout(): Promise<void>;
}

/** The store and its lock, the refresh grant and logout (RFC 7009, then delete); acquisition is the flow machine. */
export function lifecycleEffects(settings: ProviderSettings, deps: LifecycleDeps): LifecycleEffects {
  const key = storeKey(settings.storeKey);
  const { provider } = settings;
  const providerId = provider.id;

  const callDeps = { http: deps.http, now: deps.now, logger: deps.logger };
  // A passthrough provider has no IdP: nothing to discover, refresh or revoke.
  const oauth = provider.flow === 'passthrough' ? undefined : provider;
  const metadata = (needs: MetadataNeed[] = []): Promise<ServerMetadata> =>
    oauth ? metadataFor(oauth, callDeps, needs) : Promise.reject(notAnOAuthProvider(providerId));

  return {
    async readStore() {
      const record = await deps.store.read(key);
      if (!record) return undefined;
      return {
        generation: record.generation,
        ...(record.token ? { token: record.token } : {}),
        ...(record.tombstone ? { tombstone: record.tombstone } : {}),
      };
    },

    lock: () => deps.store.lock(key, { waitMs: deps.lockWaitMs }),

    async refresh(refreshToken, signal) {
      if (!oauth) throw notAnOAuthProvider(providerId);
      const { tokenEndpoint, issuer } = await metadataFor(oauth, callDeps, [], signal);
      const params = { refresh_token: refreshToken, resource: oauth.resource };
      return callTokenEndpoint(oauth, callDeps, { providerId, tokenEndpoint, issuer, grantType: 'refresh_token', params }, signal, { oneShot: true });
    },

    async write(input) {
      const next = input.tombstone
        ? // Retiring: only the tombstone changes; the stored token is left exactly as it was.
          { tombstone: { reason: input.tombstone.reason, at: deps.now(), generation: input.expectedGeneration + 1 } }
        : { token: input.token };
      const record = await deps.store.write(key, next, input.expectedGeneration);
      return { generation: record.generation };
    },

    async logout() {
      const record = await deps.store.read(key).catch(() => undefined);
      const token = record?.token;
      if (token && oauth) await revokeQuietly(token, settings, deps, metadata);
      await deps.store.delete(key);
    },
  };
}

/**
 * tokenLifecycle's named actors and its one provided action, once for every provider: each call runs the
 * effects of the provider named in its input; each provider's lifecycle adds its own flow machine.
 */
export function lifecycleImplementations(effectsOf: (providerId: string) => LifecycleEffects) {
  /** The locks held by renewals under way, by lease; `releaseLock` gives one back. */
  const leases = new Map<string, LockHandle>();
  let leaseCount = 0;
  const release = (lease: string): Promise<void> => {
    const handle = leases.get(lease);
    if (!handle) return Promise.resolve();
    leases.delete(lease);
    return handle.release().catch(() => {
      // the lock file's owner check and stale-lock recovery cover a release that could not finish
    });
  };
  const actions = {
    // A renewal that failed: give the lock back without waiting.
    releaseLock: (_: unknown, params: { lease: string }) => void release(params.lease),
  };
  const actors = {
    readStore: fromPromise<StoredToken | undefined, RenewInput>(({ input }) => effectsOf(input.providerId).readStore()),

    acquireLock: fromPromise<string, RenewInput>(async ({ input, signal }) => {
      const handle = await effectsOf(input.providerId).lock();
      // The renewal ended while we waited (a logout, a cancelled login): give the lock straight back.
      if (signal.aborted) {
        void handle.release().catch(() => undefined);
        throw new TokenError({ code: 'transient', providerId: input.providerId, message: 'the renewal ended before the lock was taken' });
      }
      const lease = `${input.providerId}#${++leaseCount}`;
      leases.set(lease, handle);
      return lease;
    }),

    returnLock: fromPromise<void, RenewInput & { lease: string }>(({ input }) => release(input.lease)),
    refreshToken: fromPromise<TokenSet, RefreshInput>(({ input, signal }) => effectsOf(input.providerId).refresh(input.refreshToken, signal)),
    writeStore: fromPromise<StoredToken, PersistInput>(({ input }) => effectsOf(input.providerId).write(input)),
    logout: fromPromise<void, LogoutInput>(({ input }) => effectsOf(input.providerId).logout()),
  };
  return { actors, actions };
}

const notAnOAuthProvider = (providerId: string) => new TokenError({ code: 'config', providerId, message: 'is not a configured OAuth provider' });

/** Effects for a provider the engine does not know: every call fails with a config error. */
export function unknownProviderEffects(providerId: string): LifecycleEffects {
  const fail = () => Promise.reject(notAnOAuthProvider(providerId));
  return { readStore: fail, lock: fail, refresh: fail, write: fail, logout: fail };
}

async function revokeQuietly(
  token: TokenSet,
  settings: ProviderSettings,
  deps: LifecycleDeps,
  metadata: (needs: ['revocationEndpoint']) => Promise<ServerMetadata>,
) {
  const { provider } = settings;
  const providerId = provider.id;
  try {
    const { revocationEndpoint, issuer, tokenEndpoint } = await metadata(['revocationEndpoint']);
    if (!revocationEndpoint) return;
    // The refresh token first: revoking it usually ends the whole grant, access token included.
    const tokens: [string, 'refresh_token' | 'access_token'][] = [];
    if (token.refreshToken) tokens.push([token.refreshToken, 'refresh_token']);
    tokens.push([token.accessToken, 'access_token']);
    for (const [value, tokenTypeHint] of tokens) {
      await deps.http.revoke({ providerId, endpoint: revocationEndpoint, issuer, tokenEndpoint, clientAuth: provider.clientAuth, token: value, tokenTypeHint });
    }
    deps.logger.info('token_revoked', { providerId });
  } catch (error) {
    // Logout must still delete locally when the IdP cannot be reached.
    deps.logger.warn('token_revocation_failed', { providerId, error: toErrorInfo(providerId, error) });
  }
}

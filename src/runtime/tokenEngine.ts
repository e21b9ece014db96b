import type { InspectionEvent } from 'xstate';
import { createTokenEndpointAdapter } from '../adapters/http/index.js';
import type { HttpTokenEndpointAdapter } from '../adapters/http/types.js';
import { silentLogger, type Logger } from '../adapters/logger.js';
import { cacheDirFor } from '../adapters/storage/cacheDir.js';
import { DEFAULT_LOCK_WAIT_MS } from '../adapters/storage/fileLock.js';
import { createFileStore } from '../adapters/storage/fileStore.js';
import { adoptingReferenceTokens } from '../adapters/storage/referenceCache.js';
import { createMemoryStore } from '../adapters/storage/memoryStore.js';
import type { TokenStore } from '../adapters/storage/types.js';
import type { SubjectTokenSource } from '../adapters/subject-token/types.js';
import { clientSecretsOf, parseEngineServers, type ConfigIssue, type EngineProviderConfig } from '../config/index.js';
import { DEFAULT_CACHE_NAMESPACE } from '../constants.js';
import { TokenError } from '../errors.js';
import { acquisitionOf, credentialHeaders, type FlowDeps, type FlowNotice } from '../flows/index.js';
import type { TokenSet } from '../machines/token.js';
import { createActor, type ActorRefFrom } from 'xstate';
import { modelSync } from '../machines/modelSync.js';
import { modelSyncActors, type ModelSyncSettings } from './modelSyncActors.js';
import { providerRegistry } from '../machines/providerRegistry.js';
import { tokenLifecycle, type LifecycleEmitted } from '../machines/tokenLifecycle.js';
import { createAuthFetch, type AuthFetchOptions } from './authFetch.js';
import { lifecycleImplementations, lifecycleEffects, unknownProviderEffects, type LifecycleEffects } from './lifecycleActors.js';
import { logEmitted } from './lifecycleLog.js';
import { createEngineEvents, engineEventOf, type EngineEventType, type EngineListener } from './engineEvents.js';
import { ProviderRuntime, type GetTokenOptions, type LoginOptions, type ProviderStatus } from './providerRuntime.js';
import { providerSettings, type ProviderSettings } from './providerSettings.js';
import { stderrNotifier } from './notify.js';

/** The first retry after a failed model sync; doubles up to the cap (the reference's 15 s start, made to work). */
const MODEL_SYNC_BACKOFF_BASE_MS = 15_000;
const MODEL_SYNC_BACKOFF_MAX_MS = 15 * 60_000;

export interface TokenEngineOptions {
  /**
   * Providers: normalised configs from the config layer, or raw server blocks in the reference
   * plugin's `servers[]` shape (validated here; invalid ones are reported in `issues`, the rest run).
   */
  providers?: readonly EngineProviderConfig[];
  servers?: readonly unknown[];
  /** Default: a file store in the per-OS cache dir (`cacheNamespace`, default `tokens`). */
  store?: TokenStore;
  cacheNamespace?: string;
  http?: HttpTokenEndpointAdapter;
  logger?: Logger;
  /** Epoch-ms clock (tests pass their own). */
  now?: () => number;
  /** This process's jitter draw in [0, 1); default random, so processes sharing a store spread out. */
  jitterFraction?: number;
  /** Where device codes and login URLs are shown; default stderr. */
  notify?: (notice: FlowNotice & { providerId: string }) => void;
  /** Extra flow dependencies (browser opener, env for subject-token sources, ...). */
  flowDeps?: Partial<Omit<FlowDeps, 'http'>>;
  /** Stately inspector (or any observer): every actor of the engine reports to it. */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Custom subject-token sources by provider id (any object with `read()` and `describe()`): used instead of
   * the provider's configured `subjectTokenSource`, for platforms no built-in source covers.
   */
  subjectTokenSources?: Readonly<Record<string, SubjectTokenSource>>;
  /**
   * Providers whose gateway model list the engine keeps current: a modelSync actor beside each one's
   * lifecycle (`models.changed` events; `engine.modelSync(id)`). OpenCode's shell passes its baseURLs here.
   */
  models?: Readonly<Record<string, ModelSyncSettings>>;
  /** The timers of the engine's actors (default the host's); a CLI host passes unref'd ones. */
  clock?: { setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown; clearTimeout(id: unknown): void };
  /** Longest wait for another process's renewal before `lock_timeout` (default 15 s). */
  lockWaitMs?: number;
}

export interface TokenEngine {
  readonly providerIds: readonly string[];
  /** Config problems: a provider listed here has no runtime; getToken for it rejects with the issue. */
  readonly issues: readonly ConfigIssue[];
  getToken(providerId: string, options?: GetTokenOptions): Promise<TokenSet>;
  /** The headers that carry the provider's current credential (Authorization, or a passthrough header). */
  headers(providerId: string, options?: GetTokenOptions): Promise<Record<string, string>>;
  /**
   * The same headers synchronously, while the provider's published token may be served (in the soft window
   * this starts the one background renewal); undefined otherwise (then await `headers`). For hot paths.
   */
  currentHeaders(providerId: string): Readonly<Record<string, string>> | undefined;
  /** A fetch that adds the credential and, on a 401 for that credential, renews once and replays. */
  fetch(providerId: string, options?: AuthFetchOptions): typeof fetch;
  /** Report an upstream 401 for this access token. */
  tokenRejected(providerId: string, accessToken: string): void;
  /**
   * A fresh interactive login. `onNotice` receives this login's notices (URL, device code) instead of the
   * engine's `notify`; aborting `signal` cancels the login (its flow, loopback server and requests stop).
   */
  login(providerId: string, options?: LoginOptions): Promise<TokenSet>;
  /** Typed events: token renewed / failed, login notice, store persist failed, logged out. Returns the unsubscribe. */
  on<T extends EngineEventType>(type: T, listener: EngineListener<T>): () => void;
  /** The provider's modelSync actor, when `models` listed it. */
  modelSync(providerId: string): ActorRefFrom<typeof modelSync> | undefined;
  logout(providerId: string): Promise<void>;
  status(): ProviderStatus[];
  stop(): void;
}

/** Machines and adapters wired together, for any agent: a registry actor with one tokenLifecycle per provider. */
export function createTokenEngine(options: TokenEngineOptions): TokenEngine {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const parsed = options.servers ? parseEngineServers(options.servers) : undefined;
  const providers = [...(options.providers ?? []), ...(parsed?.providers ?? [])];
  const issues: ConfigIssue[] = [...(parsed?.errors ?? [])];
  const http = options.http ?? createTokenEndpointAdapter({ logger, now });
  const namespace = options.cacheNamespace ?? parsed?.runtime.cacheNamespace ?? DEFAULT_CACHE_NAMESPACE;
  let fileStore: TokenStore | undefined = options.store;
  const sharedStore = () =>
    (fileStore ??= adoptingReferenceTokens(createFileStore({ dir: cacheDirFor(namespace), logger, now }), { logger, now }));
  // A passthrough credential is the platform's own short-lived token: cheap to re-mint, never worth a file.
  const memoryStore = createMemoryStore({ now });
  const notify = options.notify ?? stderrNotifier();
  const events = createEngineEvents((type, error) =>
    logger.warn('engine_listener_failed', { event: type, error: error instanceof Error ? error.name : typeof error }),
  );
  /** The login under way per provider that asked for its notices itself. */
  const noticeHandlers = new Map<string, (notice: FlowNotice) => void>();
  const jitterFraction = options.jitterFraction ?? Math.random();
  const effects = new Map<string, LifecycleEffects>();
  const settingsOf = new Map<string, ProviderSettings>();
  const failed = new Map<string, TokenError>();

  for (const provider of providers) {
    if (!provider.enabled) continue;
    try {
      const configured = providerSettings(provider);
      const custom = options.subjectTokenSources?.[provider.id];
      const settings = custom ? { ...configured, provider: { ...configured.provider, subjectTokenSource: custom } } : configured;
      effects.set(
        provider.id,
        lifecycleEffects(settings, {
          store: settings.provider.flow === 'passthrough' ? memoryStore : sharedStore(),
          http,
          logger,
          now,
          lockWaitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
        }),
      );
      settingsOf.set(provider.id, settings);
    } catch (error) {
      // One broken provider never takes the others down.
      const tokenError =
        error instanceof TokenError
          ? error
          : new TokenError({ code: 'config', providerId: provider.id, message: 'could not be started', cause: error });
      failed.set(provider.id, tokenError);
      issues.push({ severity: 'error', providerId: provider.id, source: provider.source, message: tokenError.message });
      logger.error('provider_start_failed', { providerId: provider.id, message: tokenError.message });
    }
  }

  // The store, lock and refresh effects are one set of actors for every provider (they run the effects of
  // the provider in their input); each provider's lifecycle adds its own flow machine as `acquireToken`.
  const shared = lifecycleImplementations((id) => effects.get(id) ?? unknownProviderEffects(id));
  const flowDeps: FlowDeps = { http, now, logger, ...options.flowDeps };
  const sources: Record<string, string> = {};
  const lifecycles: Record<string, unknown> = {};
  const acquisitions: Record<string, Record<string, unknown>> = {};
  for (const settings of settingsOf.values()) {
    const notifyProvider = (notice: FlowNotice) => {
      const providerId = settings.provider.id;
      events.emit({ type: 'login.notice', providerId, notice });
      const handler = noticeHandlers.get(providerId);
      if (handler) handler(notice);
      else notify({ ...notice, providerId });
    };
    const { logic, input } = acquisitionOf({ ...settings.provider, notify: notifyProvider }, flowDeps);
    const src = `tokenLifecycle:${settings.provider.id}`;
    sources[settings.provider.id] = src;
    acquisitions[settings.provider.id] = input;
    lifecycles[src] = tokenLifecycle.provide({ actors: { ...shared.actors, acquireToken: logic as never }, actions: shared.actions });
  }
  const modelSettings = new Map(Object.entries(options.models ?? {}).filter(([id]) => settingsOf.has(id)));
  const syncLogic = modelSync.provide({
    actors: modelSyncActors((id) => modelSettings.get(id), {
      // The registry starts the syncs before the runtimes below exist: look them up when the sync runs.
      getToken: (id, o) => Promise.resolve().then(() => runtime(id).getToken(o)),
      tokenRejected: (id, at) => runtime(id).rejected(at) }, logger),
  });
  const registry = createActor(providerRegistry.provide({ actors: { ...(lifecycles as object), modelSync: syncLogic } as never }), {
    id: 'oauth-engine',
    ...(options.clock ? { clock: options.clock } : {}),
    input: {
      sources,
      modelSyncs: [...modelSettings].map(([providerId, sync]) => ({
        providerId,
        timing: { intervalMs: sync.intervalMs, backoffBaseMs: MODEL_SYNC_BACKOFF_BASE_MS, backoffMaxMs: MODEL_SYNC_BACKOFF_MAX_MS },
        lastKnown: sync.lastKnown ?? null,
      })),
      providers: [...settingsOf.values()].map((settings) => ({
        providerId: settings.provider.id,
        flow: settings.provider.flow,
        clock: { now },
        timing: { skewMs: settings.provider.tokenExpirySkewMs, jitterFraction },
        acquisition: acquisitions[settings.provider.id]!,
      })),
    },
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  const lifecycleOf = (providerId: string) => registry.getSnapshot().context.lifecycles[providerId]!;
  const logLifecycle = (providerId: string) =>
    lifecycleOf(providerId).on('*', (event) => {
      logEmitted(logger, providerId, now, event as LifecycleEmitted);
      events.emit(engineEventOf(providerId, event as LifecycleEmitted));
    });
  registry.on('provider.restarted', ({ providerId, restarts }) => {
    logger.error('provider_restarted', { providerId, restarts });
    logLifecycle(providerId);
  });
  registry.on('provider.failed', ({ providerId }) => logger.error('provider_failed', { providerId }));
  registry.start();
  const syncOf = (providerId: string) => registry.getSnapshot().context.modelSyncs[providerId];
  for (const providerId of modelSettings.keys()) {
    syncOf(providerId)!.on('models.changed', (event) => events.emit(event));
  }
  // A renewal anywhere (a login, another process's refresh picked up) lets a sync waiting for a login go on.
  events.on('token.renewed', ({ providerId }) => syncOf(providerId)?.send({ type: 'TOKEN.AVAILABLE' }));
  const runtimes = new Map<string, ProviderRuntime>();
  for (const [providerId, settings] of settingsOf) {
    runtimes.set(providerId, new ProviderRuntime(settings, () => lifecycleOf(providerId), now));
    logLifecycle(providerId);
  }

  for (const issue of parsed?.errors ?? []) {
    if (issue.providerId && !runtimes.has(issue.providerId) && !failed.has(issue.providerId)) {
      failed.set(issue.providerId, new TokenError({ code: 'config', providerId: issue.providerId, message: issue.message.replace(`${issue.providerId}: `, '') }));
    }
  }

  const runtime = (providerId: string): ProviderRuntime => {
    const found = runtimes.get(providerId);
    if (found) return found;
    throw (
      failed.get(providerId) ??
      new TokenError({ code: 'config', providerId, message: 'is not a configured OAuth provider', fix: `known providers: ${[...runtimes.keys()].join(', ') || 'none'}` })
    );
  };

  // Headers per published token, built once (callers copy them; the token object changes on every renewal).
  const headerCache = new WeakMap<TokenSet, Record<string, string>>();
  const headersOf = (token: TokenSet) => {
    let headers = headerCache.get(token);
    if (!headers) headerCache.set(token, (headers = Object.freeze(credentialHeaders(token)) as Record<string, string>));
    return headers;
  };

  const engine: TokenEngine = {
    providerIds: [...runtimes.keys()],
    issues,
    getToken: async (providerId, getOptions) => runtime(providerId).getToken(getOptions),
    // The hot path of every model request: a held token's headers without an await chain or a new object.
    headers: (providerId, getOptions) => {
      let target: ProviderRuntime;
      try {
        target = runtime(providerId);
      } catch (error) {
        return Promise.reject(error);
      }
      const held = target.peekToken();
      return held ? Promise.resolve(headersOf(held)) : target.getToken(getOptions).then(headersOf);
    },
    currentHeaders: (providerId) => {
      return runtimes.get(providerId)?.peekHeaders(headersOf);
    },
    // The client secret is a known secret too: a gateway (or a proxy) may echo it in an error body.
    fetch: (providerId, fetchOptions) =>
      createAuthFetch(engine, providerId, {
        knownSecrets: () => clientSecretsOf(providers.find((p) => p.id === providerId)),
        ...fetchOptions,
      }),
    tokenRejected: (providerId, accessToken) => runtime(providerId).rejected(accessToken),
    login: async (providerId, loginOptions = {}) => {
      const { onNotice, ...rest } = loginOptions;
      const target = runtime(providerId);
      if (!onNotice) return target.login(rest);
      noticeHandlers.set(providerId, onNotice);
      try {
        return await target.login(rest);
      } finally {
        if (noticeHandlers.get(providerId) === onNotice) noticeHandlers.delete(providerId);
      }
    },
    on: (type, listener) => events.on(type, listener),
    modelSync: (providerId) => syncOf(providerId),
    logout: async (providerId) => runtime(providerId).logout(),
    status: () => [...runtimes.values()].map((r) => r.status()),
    stop: () => registry.stop(),
  };
  return engine;
}

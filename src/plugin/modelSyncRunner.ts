import type { ActorRefFrom } from 'xstate';
import type { Logger } from '../adapters/logger.js';
import type { ProviderConfig } from '../config/index.js';
import type { modelSync, SyncedModel } from '../machines/modelSync.js';
import type { ModelSyncSettings, TokenEngine } from '../runtime/index.js';
import type { ModelCache } from './modelCache.js';

/**
 * xstate's timers, unref'd (the engine's actors run on them in the plugin): a scheduled sync an hour away
 * must not keep `opencode run` (or any host) alive once its work is done.
 */
export const unrefClock = {
  setTimeout(fn: (...args: unknown[]) => void, ms: number) {
    const timer = setTimeout(fn, ms);
    (timer as { unref?: () => void }).unref?.();
    return timer;
  },
  clearTimeout(id: unknown) {
    clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

export interface ModelSyncRunner {
  readonly providerId: string;
  readonly actor: ActorRefFrom<typeof modelSync>;
  /** The best list known now: this run's sync, else the persisted one, else none. */
  models(): readonly SyncedModel[] | null;
  /** Whether `models()` came from a sync of this run. */
  fresh(): boolean;
  /** Resolves once the first sync settled (listed, failed or waiting for a login), or after `timeoutMs`. */
  firstSync(timeoutMs: number): Promise<void>;
  stop(): void;
}

/** What the engine needs to keep this provider's list current (OpenCode-only settings of the provider). */
export function modelSyncSettings(provider: ProviderConfig, lastKnown: SyncedModel[] | undefined): ModelSyncSettings {
  return {
    baseURL: provider.opencode.baseURL,
    ...(provider.opencode.modelsPath ? { modelsPath: provider.opencode.modelsPath } : {}),
    intervalMs: provider.opencode.syncIntervalMinutes * 60_000,
    timeoutMs: provider.httpTimeoutMs,
    lastKnown: lastKnown ?? null,
  };
}

/**
 * The plugin's view of a provider's modelSync, which the engine's registry runs beside its lifecycle:
 * the list for the config hook, the first-sync wait, and the model cache written on every change.
 */
export function startModelSync(options: { provider: ProviderConfig; engine: TokenEngine; cache: ModelCache; logger: Logger }): ModelSyncRunner {
  const { provider, engine, cache, logger } = options;
  const providerId = provider.id;
  const actor = engine.modelSync(providerId);
  if (!actor) throw new Error(`opencode-oauth-machines: no model sync for ${providerId}`);
  const offChanged = engine.on('models.changed', ({ providerId: changed, models, previous }) => {
    if (changed !== providerId) return;
    const before = new Set((previous ?? []).map((m) => m.id));
    const after = new Set(models.map((m) => m.id));
    logger.info('models_changed', {
      providerId,
      count: models.length,
      added: [...after].filter((id) => !before.has(id)).join(','),
      removed: [...before].filter((id) => !after.has(id)).join(','),
    });
    cache.write(providerId, provider.opencode.baseURL, [...models]).catch((error: unknown) =>
      logger.warn('models_cache_write_failed', { providerId, error: error instanceof Error ? error.name : typeof error }),
    );
  });
  const failed = actor.on('sync.failed', ({ error, failures }) => logger.warn('sync_failed', { providerId, errorCode: error.code, message: error.message, failures }));
  const awaiting = actor.on('sync.awaiting_login', ({ error }) => logger.debug('sync_awaiting_login', { providerId, errorCode: error.code }));

  return {
    providerId,
    actor,
    models: () => actor.getSnapshot().context.models,
    fresh: () => actor.getSnapshot().context.fresh,
    firstSync(timeoutMs) {
      return new Promise<void>((resolve) => {
        if (!actor.getSnapshot().matches('syncing')) return resolve();
        const timer = setTimeout(done, timeoutMs);
        const subscription = actor.subscribe((snapshot) => {
          if (!snapshot.matches('syncing')) done();
        });
        function done() {
          clearTimeout(timer);
          subscription.unsubscribe();
          resolve();
        }
      });
    },
    stop: () => {
      offChanged();
      failed.unsubscribe();
      awaiting.unsubscribe();
    },
  };
}

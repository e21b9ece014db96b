import { createActor, fromPromise, type Actor, type InspectionEvent } from 'xstate';
import type { Logger } from '../adapters/logger.js';
import { discoverModels, ModelDiscoveryError, type DiscoveredModel } from '../adapters/models/index.js';
import type { ProviderConfig } from '../config/index.js';
import { credentialHeaders } from '../flows/index.js';
import { modelSync, type SyncedModel, type TokenLookupInput } from '../machines/modelSync.js';
import type { TokenSet } from '../machines/token.js';
import type { TokenEngine } from '../runtime/index.js';
import type { ModelCache } from './modelCache.js';

/** The first retry after a failed sync; doubles up to the cap (the reference's 15 s start, made to work). */
const BACKOFF_BASE_MS = 15_000;
const BACKOFF_MAX_MS = 15 * 60_000;

/**
 * xstate's timers, unref'd: a scheduled sync an hour away must not keep `opencode run` (or any host)
 * alive once its work is done.
 */
const unrefClock = {
  setTimeout(fn: (...args: unknown[]) => void, ms: number) {
    const timer = setTimeout(fn, ms);
    (timer as { unref?: () => void }).unref?.();
    return timer;
  },
  clearTimeout(id: unknown) {
    clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

export function toSyncedModel(model: DiscoveredModel): SyncedModel {
  return { ...model };
}

export interface ModelSyncRunner {
  readonly providerId: string;
  readonly actor: Actor<typeof modelSync>;
  /** The best list known now: this run's sync, else the persisted one, else none. */
  models(): readonly SyncedModel[] | null;
  /** Whether `models()` came from a sync of this run. */
  fresh(): boolean;
  /** Resolves once the first sync settled (listed, failed or waiting for a login), or after `timeoutMs`. */
  firstSync(timeoutMs: number): Promise<void>;
  tokenAvailable(): void;
  stop(): void;
}

export function startModelSync(options: {
  provider: ProviderConfig;
  engine: TokenEngine;
  cache: ModelCache;
  lastKnown: SyncedModel[] | undefined;
  logger: Logger;
  inspect?: (event: InspectionEvent) => void;
}): ModelSyncRunner {
  const { provider, engine, cache, logger } = options;
  const providerId = provider.id;
  const machine = modelSync.provide({
    actors: {
      // Never interactive: a user flow without a stored token makes the machine wait for a login.
      lookupToken: fromPromise<unknown, TokenLookupInput>(() => engine.getToken(providerId, { interactive: false, timeoutMs: Math.max(provider.httpTimeoutMs * 2, 10_000) })),
      fetchModels: fromPromise(async ({ input }) => {
        const token = input.credential as TokenSet;
        try {
          const { models } = await discoverModels({
            baseURL: provider.baseURL,
            ...(provider.modelsPath ? { modelsPath: provider.modelsPath } : {}),
            providerId,
            headers: credentialHeaders(token),
            timeoutMs: provider.httpTimeoutMs,
            logger,
          });
          return models.map(toSyncedModel);
        } catch (error) {
          // The gateway refused this very token: let the lifecycle renew it (compare-and-invalidate).
          if (error instanceof ModelDiscoveryError && error.code === 'unauthorized') engine.tokenRejected(providerId, token.accessToken);
          throw error;
        }
      }),
    },
  });
  const actor = createActor(machine, {
    id: `modelSync:${providerId}`,
    input: {
      providerId,
      timing: { intervalMs: provider.syncIntervalMinutes * 60_000, backoffBaseMs: BACKOFF_BASE_MS, backoffMaxMs: BACKOFF_MAX_MS },
      lastKnown: options.lastKnown ?? null,
    },
    clock: unrefClock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  actor.on('models.changed', ({ models, previous }) => {
    const before = new Set((previous ?? []).map((m) => m.id));
    const after = new Set(models.map((m) => m.id));
    logger.info('models_changed', {
      providerId,
      count: models.length,
      added: [...after].filter((id) => !before.has(id)).join(','),
      removed: [...before].filter((id) => !after.has(id)).join(','),
    });
    cache.write(providerId, provider.baseURL, models).catch((error: unknown) =>
      logger.warn('models_cache_write_failed', { providerId, error: error instanceof Error ? error.name : typeof error }),
    );
  });
  actor.on('sync.failed', ({ error, failures }) => logger.warn('sync_failed', { providerId, errorCode: error.code, message: error.message, failures }));
  actor.on('sync.awaiting_login', ({ error }) => logger.debug('sync_awaiting_login', { providerId, errorCode: error.code }));
  actor.start();

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
    tokenAvailable: () => actor.send({ type: 'TOKEN.AVAILABLE' }),
    stop: () => actor.stop(),
  };
}

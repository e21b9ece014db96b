import { tokenFingerprint } from '../adapters/redact.js';
import { cacheDirFor } from '../adapters/storage/cacheDir.js';
import { createFileStore } from '../adapters/storage/fileStore.js';
import type { ConfigIssue, ParsedConfig, ProviderConfig } from '../config/index.js';
import type { FlowDeps, FlowNotice } from '../flows/index.js';
import { createTokenEngine, type TokenEngine } from '../runtime/index.js';
import { inspectorFromEnv, INSPECT_ENV, type RedactingInspector } from './inspector.js';
import { createModelCache, modelCacheDir, type ModelCache } from './modelCache.js';
import { modelSyncSettings, startModelSync, unrefClock, type ModelSyncRunner } from './modelSyncRunner.js';
import type { PluginLogger } from './pluginLogger.js';
import { protectedPaths, type ProtectedPath } from './toolGuard.js';

/**
 * Everything one managed configuration needs at runtime: one engine (one tokenLifecycle actor per provider),
 * one modelSync actor per provider, the model cache and the protected paths. Built once per process and
 * reused across `config` calls while the managed configuration stays the same (OpenCode may run the hook
 * more than once, and loads the plugin per instance).
 */
export interface Session {
  readonly signature: string;
  readonly parsed: ParsedConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly engine: TokenEngine;
  readonly runners: ReadonlyMap<string, ModelSyncRunner>;
  readonly cache: ModelCache;
  readonly storeDir: string;
  readonly guarded: readonly ProtectedPath[];
  /** Providers the config names but that could not be started, with why. */
  readonly broken: ReadonlyMap<string, ConfigIssue>;
  stop(): void;
}

export interface SessionDeps {
  env: Record<string, string | undefined>;
  logger: PluginLogger;
  now: () => number;
  /** Shows a login notice nobody waits for (stderr headless, a toast in the TUI). */
  showLogin(notice: FlowNotice & { providerId: string }): void;
  storeDirFor?: (namespace: string) => string;
  flowDeps?: Partial<Omit<FlowDeps, 'http'>>;
  importModule?: (name: string) => Promise<unknown>;
}

/** Fields whose values are secret: the signature holds their fingerprint, never the value. */
const SECRET_KEYS = new Set(['clientSecret', 'privateKey', 'headers', 'command', 'jwk']);

function secretFree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(secretFree);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, item]) => [key, SECRET_KEYS.has(key) && item !== undefined ? `sha256:${tokenFingerprint(JSON.stringify(item))}` : secretFree(item)]),
    );
  }
  return value;
}

/** What decides whether the running session still fits: providers, runtime settings, store, inspector. */
export function sessionSignature(parsed: ParsedConfig, storeDir: string, env: Record<string, string | undefined>): string {
  return JSON.stringify(secretFree({ providers: parsed.providers, runtime: parsed.runtime, storeDir, inspect: env[INSPECT_ENV] ?? null }));
}

export function storeDirOf(parsed: ParsedConfig, deps: Pick<SessionDeps, 'env' | 'storeDirFor'>): string {
  return deps.storeDirFor?.(parsed.runtime.cacheNamespace) ?? cacheDirFor(parsed.runtime.cacheNamespace, deps.env as NodeJS.ProcessEnv);
}

export async function createSession(parsed: ParsedConfig, signature: string, deps: SessionDeps): Promise<Session> {
  const { logger, now } = deps;
  const storeDir = storeDirOf(parsed, deps);
  let inspector: RedactingInspector | undefined;
  try {
    inspector = await inspectorFromEnv(deps.env, logger, deps.importModule);
  } catch {
    inspector = undefined;
  }
  // The model sync runs in the engine beside each lifecycle, from the last good list of an earlier run.
  const cache = createModelCache(modelCacheDir(storeDir), now);
  const models = Object.fromEntries(
    await Promise.all(parsed.providers.filter((p) => p.enabled).map(async (p) => [p.id, modelSyncSettings(p, await cache.read(p.id, p.opencode.baseURL))] as const)),
  );
  const engine = createTokenEngine({
    providers: parsed.providers,
    store: createFileStore({ dir: storeDir, logger, now }),
    logger,
    now,
    // Notices of a login nobody asked to see itself (engine.login's onNotice takes those of the auth hook).
    notify: (notice) => deps.showLogin(notice),
    ...(deps.flowDeps ? { flowDeps: deps.flowDeps } : {}),
    ...(inspector ? { inspect: inspector.inspect } : {}),
    models,
    clock: unrefClock,
  });
  const running = new Set(engine.providerIds);
  const providers = new Map(parsed.providers.filter((p) => running.has(p.id)).map((p) => [p.id, p]));
  const broken = new Map<string, ConfigIssue>();
  for (const issue of [...parsed.errors, ...engine.issues]) {
    if (issue.providerId && !running.has(issue.providerId) && !broken.has(issue.providerId)) broken.set(issue.providerId, issue);
  }

  const runners = new Map<string, ModelSyncRunner>();
  for (const provider of providers.values()) runners.set(provider.id, startModelSync({ provider, engine, cache, logger }));

  return {
    signature,
    parsed,
    providers,
    engine,
    runners,
    cache,
    storeDir,
    guarded: protectedPaths({ storeDir, providers: parsed.providers }),
    broken,
    stop() {
      for (const runner of runners.values()) runner.stop();
      engine.stop();
      inspector?.stop();
    },
  };
}

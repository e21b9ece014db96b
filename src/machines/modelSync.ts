import { assign, emit, fromPromise, setup } from 'xstate';
import { clampTimerMs } from './timerLimit.js';
import { needsLogin, type TokenErrorCode } from '../errors.js';
import { unprovidedActors } from './notProvided.js';

/**
 * One actor per provider: keeps the gateway's model list (`GET <baseURL>/models`) current.
 *
 *   syncing{lookingUpToken → fetching} → scheduled ─(syncInterval)→ syncing
 *                     ↘ awaitingToken (a login is needed)   ↘ backingOff ─(retryBackoff)→ syncing
 *
 * The credential comes from a token lookup that never prompts: a user flow without a stored token waits in
 * `awaitingToken` until a login happens elsewhere (TOKEN.AVAILABLE), so this machine never asks for a login
 * on its own. A failed sync keeps the last good list; only a successful one replaces it, and a change is
 * emitted as `models.changed`. The credential itself never enters the context: it goes from the lookup's
 * done event straight into the fetch's input.
 */

/** What the machine keeps of a model: the gateway's id and the metadata worth showing (no secrets). */
export interface SyncedModel {
  id: string;
  upstreamName?: string;
  contextLength?: number;
  maxOutputTokens?: number;
  ownedBy?: string;
  created?: number;
}

/** The plain error shape kept in context (Error objects serialise to `{}`). */
export interface SyncError {
  code: string;
  message: string;
}

export interface ModelSyncTiming {
  /** Between two successful syncs (the reference's `syncIntervalMinutes`). */
  intervalMs: number;
  /** First retry after a failure; doubles with each further failure. */
  backoffBaseMs: number;
  /** Longest wait between retries (never longer than `intervalMs` either). */
  backoffMaxMs: number;
}

export interface ModelSyncInput {
  providerId: string;
  timing: ModelSyncTiming;
  /** The last good list from an earlier run (persisted by the host), served until a sync replaces it. */
  lastKnown?: readonly SyncedModel[] | null;
}

export interface ModelSyncContext {
  providerId: string;
  timing: ModelSyncTiming;
  /** The last good list; null until one is known. Never cleared by a failure. */
  models: readonly SyncedModel[] | null;
  /** True once a sync of this run succeeded (the list is not only the persisted one). */
  fresh: boolean;
  /** Failed attempts since the last success (drives the backoff). */
  failures: number;
  lastError: SyncError | null;
}

export type ModelSyncEvent =
  /** Sync now (a tool, a host hook), whatever the schedule says. */
  | { type: 'SYNC.REQUESTED' }
  /** A token can now be had without prompting (a login or a renewal happened). */
  | { type: 'TOKEN.AVAILABLE' };

export type ModelSyncEmitted =
  | { type: 'models.changed'; providerId: string; models: readonly SyncedModel[]; previous: readonly SyncedModel[] | null }
  | { type: 'sync.failed'; providerId: string; error: SyncError; failures: number }
  | { type: 'sync.awaiting_login'; providerId: string; error: SyncError };

export interface TokenLookupInput {
  providerId: string;
}
/** The fetch gets the lookup's output as an opaque credential: the machine never reads or stores it. */
export interface FetchModelsInput {
  providerId: string;
  credential: unknown;
}

const notProvided = unprovidedActors('modelSync');

/** Codes of a token lookup that only a login can fix: waiting is right, retrying is not. */

export function syncErrorOf(error: unknown): SyncError {
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    return { code: String((error as { code: unknown }).code), message: String((error as { message: unknown }).message) };
  }
  return { code: 'unknown', message: `model sync failed (${error instanceof Error ? error.name : typeof error})` };
}

/** Same ids, names and limits in the same order: nothing a user would see has changed. */
export function sameModelList(a: readonly SyncedModel[] | null, b: readonly SyncedModel[] | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const modelSync = setup({
  types: {
    context: {} as ModelSyncContext,
    events: {} as ModelSyncEvent,
    input: {} as ModelSyncInput,
    emitted: {} as ModelSyncEmitted,
  },
  actors: {
    /** A token without prompting: a stored/refreshable one for user flows, an unattended acquisition for machine flows. */
    lookupToken: fromPromise<unknown, TokenLookupInput>(notProvided('lookupToken')),
    fetchModels: fromPromise<SyncedModel[], FetchModelsInput>(notProvided('fetchModels')),
  },
  guards: {
    needsLogin: (_, params: { error: unknown }) => needsLogin(syncErrorOf(params.error).code as TokenErrorCode),
    listChanged: ({ context }, params: { models: readonly SyncedModel[] }) => !sameModelList(context.models, params.models),
  },
  actions: {
    keepModels: assign((_, params: { models: readonly SyncedModel[] }) => ({
      models: params.models,
      fresh: true,
      failures: 0,
      lastError: null,
    })),
    recordFailure: assign(({ context }, params: { error: unknown }) => ({
      failures: context.failures + 1,
      lastError: syncErrorOf(params.error),
    })),
    recordLoginNeeded: assign((_, params: { error: unknown }) => ({ lastError: syncErrorOf(params.error) })),
    emitChanged: emit(({ context }, params: { models: readonly SyncedModel[] }) => ({
      type: 'models.changed' as const,
      providerId: context.providerId,
      models: params.models,
      previous: context.models,
    })),
    emitFailed: emit(({ context }) => ({
      type: 'sync.failed' as const,
      providerId: context.providerId,
      error: context.lastError ?? syncErrorOf(undefined),
      failures: context.failures,
    })),
    emitAwaitingLogin: emit(({ context }) => ({
      type: 'sync.awaiting_login' as const,
      providerId: context.providerId,
      error: context.lastError ?? syncErrorOf(undefined),
    })),
  },
  delays: {
    // Clamped (timerLimit.ts): a sync that comes early after 24.8 days is harmless, one that comes at once is not.
    syncInterval: ({ context }) => clampTimerMs(context.timing.intervalMs),
    /** base · 2^(failures−1), capped by backoffMaxMs and by the interval (a retry never waits longer than a sync). */
    retryBackoff: ({ context }) =>
      clampTimerMs(Math.min(
        context.timing.backoffBaseMs * 2 ** Math.max(0, context.failures - 1),
        context.timing.backoffMaxMs,
        context.timing.intervalMs,
      )),
  },
}).createMachine({
  id: 'modelSync',
  context: ({ input }) => ({
    providerId: input.providerId,
    timing: input.timing,
    models: input.lastKnown ?? null,
    fresh: false,
    failures: 0,
    lastError: null,
  }),
  initial: 'syncing',
  states: {
    // Discover at once on start: the host shows whatever list the first sync (or the persisted one) gives.
    syncing: {
      initial: 'lookingUpToken',
      states: {
        lookingUpToken: {
          invoke: {
            id: 'lookup',
            src: 'lookupToken',
            input: ({ context }) => ({ providerId: context.providerId }),
            onDone: { target: 'fetching' },
            onError: [
              {
                guard: { type: 'needsLogin', params: ({ event }) => ({ error: event.error }) },
                target: '#modelSync.awaitingToken',
                actions: { type: 'recordLoginNeeded', params: ({ event }) => ({ error: event.error }) },
              },
              {
                target: '#modelSync.backingOff',
                actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
              },
            ],
          },
        },
        fetching: {
          invoke: {
            id: 'fetch',
            src: 'fetchModels',
            // The credential rides on the lookup's done event, so it is never part of the context.
            input: ({ context, event }) => ({ providerId: context.providerId, credential: (event as { output?: unknown }).output }),
            onDone: [
              {
                guard: { type: 'listChanged', params: ({ event }) => ({ models: event.output }) },
                target: '#modelSync.scheduled',
                actions: [
                  { type: 'emitChanged', params: ({ event }) => ({ models: event.output }) },
                  { type: 'keepModels', params: ({ event }) => ({ models: event.output }) },
                ],
              },
              {
                target: '#modelSync.scheduled',
                actions: { type: 'keepModels', params: ({ event }) => ({ models: event.output }) },
              },
            ],
            onError: {
              target: '#modelSync.backingOff',
              actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
            },
          },
        },
      },
    },

    // Up to date: the next sync is one interval away.
    scheduled: {
      after: { syncInterval: { target: 'syncing' } },
      on: { 'SYNC.REQUESTED': { target: 'syncing' } },
    },

    // A user flow with no token to be had without a human: wait for a login, look again once per interval.
    awaitingToken: {
      entry: 'emitAwaitingLogin',
      after: { syncInterval: { target: 'syncing' } },
      on: {
        'TOKEN.AVAILABLE': { target: 'syncing' },
        'SYNC.REQUESTED': { target: 'syncing' },
      },
    },

    // The IdP or the gateway failed: retry sooner than the interval, later with each failure.
    backingOff: {
      entry: 'emitFailed',
      after: { retryBackoff: { target: 'syncing' } },
      on: {
        'TOKEN.AVAILABLE': { target: 'syncing' },
        'SYNC.REQUESTED': { target: 'syncing' },
      },
    },
  },
});

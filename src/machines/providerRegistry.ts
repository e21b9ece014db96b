import { assign, emit, setup, type ActorRefFrom } from 'xstate';
import { tokenLifecycle, type LifecycleInput } from './tokenLifecycle.js';
import { modelSync, type ModelSyncInput } from './modelSync.js';

/**
 * The root of an engine: one tokenLifecycle per provider, spawned by name (so one provided machine serves
 * every provider), and the wall between them: a provider whose actor fails is restarted from its store
 * record, a bounded number of times, and never takes the others down (an unhandled child error would).
 */

export interface RegistryInput {
  providers: readonly LifecycleInput[];
  /** Restarts per provider before it is left failed (default 3). */
  maxRestarts?: number;
  /**
   * The provided actor each provider's lifecycle is spawned from (default `tokenLifecycle`): a provider's
   * own lifecycle carries its flow machine as the `acquireToken` child.
   */
  sources?: Readonly<Record<string, string>>;
  /** Providers whose gateway model list is kept current: one modelSync each, spawned beside its lifecycle. */
  modelSyncs?: readonly ModelSyncInput[];
}

type LifecycleRef = ActorRefFrom<typeof tokenLifecycle>;
type ModelSyncRef = ActorRefFrom<typeof modelSync>;

export interface RegistryContext {
  /** The live lifecycle actor of each provider. */
  lifecycles: Record<string, LifecycleRef>;
  /** The model sync of each provider that has one (`models:<id>`). */
  modelSyncs: Record<string, ModelSyncRef>;
  inputs: Record<string, LifecycleInput>;
  sources: Readonly<Record<string, string>>;
  /** Child actor id → provider id (a restarted provider gets a new child id). */
  providerOfChild: Record<string, string>;
  restarts: Record<string, number>;
  maxRestarts: number;
}

export type RegistryEvent = { type: `xstate.error.actor.${string}`; error: unknown };

export type RegistryEmitted =
  | { type: 'provider.restarted'; providerId: string; restarts: number }
  | { type: 'provider.failed'; providerId: string };

export const modelSyncChildId = (providerId: string) => `models:${providerId}`;

export const lifecycleChildId = (providerId: string, restarts: number) =>
  restarts === 0 ? `token:${providerId}` : `token:${providerId}#${restarts}`;

// The source names are provided at run time (one per provider), so they are outside setup()'s static types.
const spawnLifecycle = (spawn: any, sources: Readonly<Record<string, string>>, providerId: string, id: string, input: LifecycleInput): LifecycleRef =>
  spawn((sources[providerId] ?? 'tokenLifecycle') as 'tokenLifecycle', { id, input });

const failedChild = (event: RegistryEvent) => event.type.slice('xstate.error.actor.'.length);

export const providerRegistry = setup({
  types: {
    context: {} as RegistryContext,
    events: {} as RegistryEvent,
    input: {} as RegistryInput,
    emitted: {} as RegistryEmitted,
  },
  actors: { tokenLifecycle, modelSync },
  guards: {
    /** A crash loop stops here: the provider stays failed and says so, the others carry on. */
    mayRestart: ({ context, event }) => {
      const providerId = context.providerOfChild[failedChild(event)];
      return providerId !== undefined && (context.restarts[providerId] ?? 0) < context.maxRestarts;
    },
  },
  actions: {
    restartLifecycle: assign(({ context, event, spawn }) => {
      const providerId = context.providerOfChild[failedChild(event)]!;
      const restarts = (context.restarts[providerId] ?? 0) + 1;
      const id = lifecycleChildId(providerId, restarts);
      return {
        lifecycles: { ...context.lifecycles, [providerId]: spawnLifecycle(spawn, context.sources, providerId, id, context.inputs[providerId]!) },
        providerOfChild: { ...context.providerOfChild, [id]: providerId },
        restarts: { ...context.restarts, [providerId]: restarts },
      };
    }),
    emitRestarted: emit(({ context, event }) => {
      const providerId = context.providerOfChild[failedChild(event)]!;
      return { type: 'provider.restarted' as const, providerId, restarts: context.restarts[providerId] ?? 0 };
    }),
    emitGaveUp: emit(({ context, event }) => ({
      type: 'provider.failed' as const,
      providerId: context.providerOfChild[failedChild(event)] ?? failedChild(event),
    })),
  },
}).createMachine({
  id: 'providerRegistry',
  context: ({ input, spawn }) => {
    const lifecycles: Record<string, LifecycleRef> = {};
    const inputs: Record<string, LifecycleInput> = {};
    const providerOfChild: Record<string, string> = {};
    for (const provider of input.providers) {
      const id = lifecycleChildId(provider.providerId, 0);
      lifecycles[provider.providerId] = spawnLifecycle(spawn, input.sources ?? {}, provider.providerId, id, provider);
      inputs[provider.providerId] = provider;
      providerOfChild[id] = provider.providerId;
    }
    const modelSyncs: Record<string, ModelSyncRef> = {};
    for (const sync of input.modelSyncs ?? []) {
      modelSyncs[sync.providerId] = spawn('modelSync', { id: modelSyncChildId(sync.providerId), input: sync });
    }
    return { lifecycles, modelSyncs, inputs, sources: input.sources ?? {}, providerOfChild, restarts: {}, maxRestarts: input.maxRestarts ?? 3 };
  },
  initial: 'running',
  states: {
    running: {
      on: {
        // Handling the child's error here is what keeps it from failing the registry and every sibling.
        'xstate.error.actor.*': [
          { guard: 'mayRestart', actions: ['restartLifecycle', 'emitRestarted'] },
          { actions: 'emitGaveUp' },
        ],
      },
    },
  },
});

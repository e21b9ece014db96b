import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, type AnyMachineSnapshot } from 'xstate';
import { modelSync, type ModelSyncEmitted, type ModelSyncInput, type SyncedModel } from '../../src/machines/modelSync.js';
import { byStateValues, describeModel, fakeTimers, flush, pathName } from '../support/modelTesting.js';

const CREDENTIAL = { accessToken: 'at-model-sync-credential' };
const LIST_A: SyncedModel[] = [{ id: 'glm-5' }, { id: 'gpt-4o-mini', contextLength: 128_000 }];
const LIST_B: SyncedModel[] = [{ id: 'glm-5' }, { id: 'qwen2-72b-instruct', upstreamName: 'Qwen2 72B' }];
const error = (code: string) => ({ code, message: `[p] ${code}` });

const payloads: Record<string, object[]> = {
  'xstate.done.actor.lookup': [{ output: CREDENTIAL }],
  'xstate.error.actor.lookup': [{ error: error('interaction_required') }, { error: error('transient') }],
  'xstate.done.actor.fetch': [{ output: LIST_A }, { output: LIST_B }],
  'xstate.error.actor.fetch': [{ error: error('network') }],
};

// A vertex is the state plus what guards and delays read; the failure count only matters as none / one / more.
const serializeState = (s: AnyMachineSnapshot) => {
  const c = s.context as { models: SyncedModel[] | null; failures: number; fresh: boolean };
  return JSON.stringify({ value: s.value, models: c.models?.map((m) => m.id) ?? null, failures: Math.min(c.failures, 2), fresh: c.fresh });
};

const timing = { intervalMs: 3_600_000, backoffBaseMs: 15_000, backoffMaxMs: 900_000 };
const inputs: Record<string, ModelSyncInput> = {
  'first run (nothing persisted)': { providerId: 'p', timing },
  'later run (a persisted list)': { providerId: 'p', timing, lastKnown: LIST_A },
};

describeModel({
  name: 'modelSync',
  machine: modelSync,
  variants: inputs,
  fakes: { lookupToken: 'promise', fetchModels: 'promise' },
  payloads,
  serializeState,
  edgeKey: byStateValues,
  now: 10_000,
  minPaths: 6,
  check(snapshot, { input, path, fakes, history, emitted }) {
    // Never loses the last good list; the credential never enters the context.
    const hadList = input.lastKnown != null || history.slice(0, -1).some((earlier) => earlier.context.models !== null);
    if (hadList) expect(snapshot.context.models, pathName(path)).not.toBeNull();
    expect(JSON.stringify(snapshot.context)).not.toContain(CREDENTIAL.accessToken);
    // The fetch gets exactly what the lookup gave, and only the lookup's output.
    for (const call of (fakes.inputs.get('fetch') ?? []) as { credential: unknown }[]) expect(call.credential).toEqual(CREDENTIAL);
    // A change is emitted only when the list differs from the one held before.
    for (const event of (emitted as ModelSyncEmitted[]).filter((e) => e.type === 'models.changed')) {
      expect(JSON.stringify(event.models)).not.toBe(JSON.stringify(event.previous));
    }
  },
});

describe('modelSync timing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs off 15 s, 30 s, 60 s … capped by backoffMaxMs, and syncs again one interval after a success', async () => {
    fakeTimers(0);
    let lookups = 0;
    let failNext = 4;
    const machine = modelSync.provide({
      actors: {
        lookupToken: (await import('xstate')).fromPromise(async () => {
          lookups++;
          if (failNext-- > 0) throw error('transient');
          return CREDENTIAL;
        }),
        fetchModels: (await import('xstate')).fromPromise(async () => LIST_A),
      } as never,
    });
    const actor = createActor(machine, { input: { providerId: 'p', timing: { intervalMs: 100_000, backoffBaseMs: 15_000, backoffMaxMs: 50_000 } } });
    actor.start();
    await flush();
    expect(lookups).toBe(1);
    for (const wait of [15_000, 30_000, 50_000]) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      const before = lookups;
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(lookups, `retry after ${wait} ms`).toBe(before + 1);
    }
    // Fourth failure: still capped at 50 s; then the fifth attempt succeeds.
    await vi.advanceTimersByTimeAsync(50_000);
    await flush();
    expect(actor.getSnapshot().value).toBe('scheduled');
    expect(actor.getSnapshot().context.models).toEqual(LIST_A);
    const afterSuccess = lookups;
    await vi.advanceTimersByTimeAsync(99_999);
    expect(lookups).toBe(afterSuccess);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(lookups).toBe(afterSuccess + 1);
    actor.stop();
  });

  it('waits for a login without retrying on its own before the interval, and syncs at once on TOKEN.AVAILABLE', async () => {
    fakeTimers(0);
    const { fromPromise } = await import('xstate');
    let loggedIn = false;
    let lookups = 0;
    const machine = modelSync.provide({
      actors: {
        lookupToken: fromPromise(async () => {
          lookups++;
          if (!loggedIn) throw error('interaction_required');
          return CREDENTIAL;
        }),
        fetchModels: fromPromise(async () => LIST_B),
      } as never,
    });
    const actor = createActor(machine, { input: { providerId: 'p', timing, lastKnown: LIST_A } });
    const emitted: string[] = [];
    actor.on('*', (e) => emitted.push(e.type));
    actor.start();
    await flush();
    expect(actor.getSnapshot().value).toBe('awaitingToken');
    expect(actor.getSnapshot().context.models).toEqual(LIST_A);
    await vi.advanceTimersByTimeAsync(timing.intervalMs - 1);
    expect(lookups).toBe(1);
    loggedIn = true;
    actor.send({ type: 'TOKEN.AVAILABLE' });
    await flush();
    await flush();
    expect(actor.getSnapshot().value).toBe('scheduled');
    expect(actor.getSnapshot().context.models).toEqual(LIST_B);
    expect(emitted).toEqual(['sync.awaiting_login', 'models.changed']);
    actor.stop();
  });
});

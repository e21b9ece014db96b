import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback, type AnyMachineSnapshot } from 'xstate';
import { tokenLifecycle, type LifecycleInput } from '../../src/machines/tokenLifecycle.js';
import { FAR, payloads } from './lifecyclePayloads.js';
import {
  createControlledPromises,
  createCoverage,
  describePath,
  edgeCoveragePaths,
  eventsWith,
  fakeTimers,
  replay,
  type Path,
} from '../support/modelTesting.js';

// A vertex is the state plus what the guards read; errors and timestamps would only multiply paths.
const serializeState = (s: AnyMachineSnapshot) => {
  const c = s.context as LifecycleInput & Record<string, any>;
  return JSON.stringify({
    value: s.value,
    token: !!c.token,
    refreshToken: !!c.token?.refreshToken,
    stale: !!c.token && c.token.expiresAt < FAR,
    generation: c.generation,
    interactive: c.interactive,
    persistFailed: c.persistFailed,
  });
};

const clock = { now: () => Date.now() };
const flows: Record<string, LifecycleInput> = {
  'user flow (authorization_code)': { providerId: 'p', flow: 'authorization_code', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
  'machine flow (client_credentials)': { providerId: 'p', flow: 'client_credentials', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
};

const coverage = createCoverage(tokenLifecycle, 'tokenLifecycle');
afterAll(() => {
  const report = coverage.report();
  console.log(report.line);
  expect(report.missedStates).toEqual([]);
  expect(report.missedTransitions).toEqual([]);
});
afterEach(() => {
  vi.useRealTimers();
});

async function run(path: Path, input: LifecycleInput) {
  fakeTimers(10_000);
  const promises = createControlledPromises();
  let locksHeld = 0;
  const machine = tokenLifecycle.provide({
    actors: {
      readStore: promises.logic(),
      refreshToken: promises.logic(),
      acquireToken: promises.logic(),
      writeStore: promises.logic(),
      logout: promises.logic(),
      holdLock: fromCallback(() => {
        locksHeld++;
        return () => {
          locksHeld--;
        };
      }),
    } as never,
  });
  const actor = createActor(machine, { input, inspect: coverage.inspect }).start();
  try {
    await replay(path, {
      send: (event) => actor.send(event as never),
      settle: promises.settle,
      check(expected) {
        const snapshot = actor.getSnapshot();
        expect({ value: snapshot.value, context: snapshot.context }).toEqual({ value: expected.value, context: expected.context });
        // The cross-process lock is held exactly while a renewal runs, and released on every way out.
        expect(locksHeld).toBe(snapshot.matches('renewing') ? 1 : 0);
        // Strict policy, checked on every step: a user flow never holds a token without a refresh token
        // unless it is waiting for a login; a machine flow never keeps a refresh token at all.
        const token = snapshot.context.token;
        if (token && input.flow === 'client_credentials') expect(token.refreshToken).toBeUndefined();
        if (token && input.flow === 'authorization_code' && (snapshot.matches('valid') || snapshot.matches('expiring'))) {
          expect(token.refreshToken, describePath(path)).toBeTruthy();
        }
      },
    });
    // A refresh token reaches the refresh actor only from the record re-read inside the lock.
    const refreshes = promises.calls.filter((c) => c.id === 'refresh');
    for (const call of refreshes) expect((call.input as { refreshToken: string }).refreshToken).toMatch(/^rt-/);
  } finally {
    actor.stop();
  }
}

describe.each(Object.entries(flows))('tokenLifecycle model, %s', (_name, input) => {
  const paths = edgeCoveragePaths(tokenLifecycle, { input, events: eventsWith(payloads), serializeState });
  it('generates paths that reach past the initial state', () => {
    expect(paths.length).toBeGreaterThan(10);
  });
  it.each(paths.map((path) => ({ name: describePath(path), path })))('$name', ({ path }) => run(path, input));
});

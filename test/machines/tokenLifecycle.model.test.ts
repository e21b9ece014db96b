import { expect } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { tokenLifecycle, type LifecycleInput } from '../../src/machines/tokenLifecycle.js';
import { FAR, payloads } from './lifecyclePayloads.js';
import { byStateValues, describeModel, pathName } from '../support/modelTesting.js';

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
    servable: !!c.schedule && c.schedule.hardAt > FAR - 3_600_000,
    // Only "none, one, more" matters to the guards; the count itself would make the graph infinite.
    doubt: Math.min(c.doubtfulRefreshes, 2),
    renewal: c.renewal !== null,
  });
};

const clock = { now: () => Date.now() };
const flows: Record<string, LifecycleInput> = {
  'user flow (authorization_code)': { providerId: 'p', flow: 'authorization_code', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
  'machine flow (client_credentials)': { providerId: 'p', flow: 'client_credentials', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
};

// Every lease the machine gives back, in order (the runtime's releaseLock would release the lock file).
const released: string[] = [];

describeModel({
  name: 'tokenLifecycle',
  machine: tokenLifecycle.provide({ actions: { releaseLock: (_, params: { lease: string }) => void released.push(params.lease) } }),
  variants: flows,
  fakes: {
    readStore: 'promise',
    refreshToken: 'promise',
    acquireToken: 'promise',
    writeStore: 'promise',
    logout: 'promise',
    acquireLock: 'promise',
    returnLock: 'promise',
  },
  payloads,
  serializeState,
  edgeKey: byStateValues,
  now: 10_000,
  minPaths: 11,
  check(snapshot, run) {
    const { input, path, fakes } = run;
    // The cross-process lock is held exactly while a renewal runs past locking, and given back on every
    // way out (returned before a new token is served, or dropped by a failed renewal's exit).
    expect(snapshot.context.lease !== null).toBe(snapshot.matches('renewing') && !snapshot.matches({ renewing: 'locking' }));
    if (run.history.length === 1) released.length = 0;
    const taken = path.steps.slice(0, run.history.length).filter((s) => s.event.type === 'xstate.done.actor.lock').length;
    const returned = ((fakes.inputs.get('release') ?? []) as { lease: string }[]).filter((call) => call.lease !== '').length;
    // Every lease taken and no longer held went to a release (a return cut short by a logout is also dropped).
    expect(released.filter((lease) => lease !== '').length + returned).toBeGreaterThanOrEqual(taken - (snapshot.context.lease ? 1 : 0));
    // A renewed or adopted token is not served before the lock is back.
    if (snapshot.matches({ renewing: 'releasing' })) expect(snapshot.hasTag('servable')).toBe(false);
    // Strict policy, checked on every step: a user flow never holds a token without a refresh token
    // unless it is waiting for a login; a machine flow never keeps a refresh token at all.
    const token = snapshot.context.token;
    if (token && input.flow === 'client_credentials') expect(token.refreshToken).toBeUndefined();
    if (token && input.flow === 'authorization_code' && (snapshot.matches('valid') || snapshot.matches('expiring'))) {
      expect(token.refreshToken, pathName(path)).toBeTruthy();
    }
    // A refresh token reaches the refresh actor only from the record re-read inside the lock.
    for (const call of (fakes.inputs.get('refresh') ?? []) as { refreshToken: string }[]) expect(call.refreshToken).toMatch(/^rt-/);
  },
});

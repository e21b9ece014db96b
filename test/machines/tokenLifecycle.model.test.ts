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
  });
};

const clock = { now: () => Date.now() };
const flows: Record<string, LifecycleInput> = {
  'user flow (authorization_code)': { providerId: 'p', flow: 'authorization_code', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
  'machine flow (client_credentials)': { providerId: 'p', flow: 'client_credentials', clock, timing: { skewMs: 30_000, jitterFraction: 0 } },
};

describeModel({
  name: 'tokenLifecycle',
  machine: tokenLifecycle,
  variants: flows,
  fakes: {
    readStore: 'promise',
    refreshToken: 'promise',
    acquireToken: 'promise',
    writeStore: 'promise',
    logout: 'promise',
    holdLock: 'callback',
  },
  payloads,
  serializeState,
  edgeKey: byStateValues,
  now: 10_000,
  minPaths: 11,
  check(snapshot, { input, path, fakes }) {
    // The cross-process lock is held exactly while a renewal runs, and released on every way out.
    expect(fakes.running('lock')).toBe(snapshot.matches('renewing') ? 1 : 0);
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

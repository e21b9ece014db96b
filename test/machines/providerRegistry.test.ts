import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { providerRegistry, type RegistryEmitted } from '../../src/machines/providerRegistry.js';
import type { LifecycleInput } from '../../src/machines/tokenLifecycle.js';
import { createCoverage, expectFullCoverage } from '../support/modelTesting.js';

// A lifecycle stand-in that fails on demand: the registry's job is what happens around a failing child.
const fragile = setup({}).createMachine({
  initial: 'up',
  states: { up: { on: { CRASH: { actions: () => { throw new Error('a bug in a lifecycle'); } } } } },
});
const provider = (providerId: string): LifecycleInput => ({
  providerId,
  flow: 'client_credentials',
  clock: { now: () => 0 },
  timing: { skewMs: 0, jitterFraction: 0 },
});

// The registry has one state and two transitions, driven by real child failures rather than generated
// paths: the scenarios below take every one of them, and the last test proves it.
const coverage = createCoverage(providerRegistry, 'providerRegistry');

function start(maxRestarts: number) {
  const registry = createActor(providerRegistry.provide({ actors: { tokenLifecycle: fragile as never } }), {
    input: { providers: [provider('a'), provider('b')], maxRestarts },
    inspect: coverage.inspect,
  });
  const emitted: RegistryEmitted[] = [];
  registry.on('*', (event) => emitted.push(event as RegistryEmitted));
  return { registry: registry.start(), emitted, ref: (id: string) => registry.getSnapshot().context.lifecycles[id]! };
}

describe('providerRegistry', () => {
  it('spawns one lifecycle per provider, with the provider in its id', () => {
    const { registry, ref } = start(3);
    expect(ref('a').id).toBe('token:a');
    expect(ref('b').id).toBe('token:b');
    registry.stop();
  });

  it('a failing lifecycle is restarted and its siblings and the registry carry on', () => {
    const { registry, emitted, ref } = start(3);
    const [a, b] = [ref('a'), ref('b')];
    a.send({ type: 'CRASH' } as never);
    expect(a.getSnapshot().status).toBe('error');
    expect(ref('a')).not.toBe(a);
    expect(ref('a').id).toBe('token:a#1');
    expect(ref('a').getSnapshot().status).toBe('active');
    expect(ref('b')).toBe(b);
    expect(b.getSnapshot().status).toBe('active');
    expect(registry.getSnapshot().status).toBe('active');
    expect(emitted).toEqual([{ type: 'provider.restarted', providerId: 'a', restarts: 1 }]);
    registry.stop();
  });

  it('a crash loop stops after maxRestarts: the provider is reported failed, the others still run', () => {
    const { registry, emitted, ref } = start(1);
    ref('a').send({ type: 'CRASH' } as never);
    ref('a').send({ type: 'CRASH' } as never);
    expect(emitted).toEqual([
      { type: 'provider.restarted', providerId: 'a', restarts: 1 },
      { type: 'provider.failed', providerId: 'a' },
    ]);
    expect(ref('a').getSnapshot().status).toBe('error');
    expect(ref('b').getSnapshot().status).toBe('active');
    expect(registry.getSnapshot().status).toBe('active');
    registry.stop();
  });

  it('covers every state and every transition of providerRegistry', () => expectFullCoverage(coverage));
});

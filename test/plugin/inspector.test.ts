import { describe, expect, it, vi } from 'vitest';
import { assign, createActor, fromPromise, setup, waitFor } from 'xstate';
import * as statelyInspect from '@statelyai/inspect';
import { createRedactingInspector, inspectorFromEnv, redactInspectionEvent, type StatelyEvent } from '../../src/plugin/index.js';
import type { Logger } from '../../src/adapters/logger.js';

const REFRESH = 'rt-Secret0123456789abcdefXYZ';
const ACCESS = 'at-Secret0123456789abcdefXYZ';

/** A machine like ours: the refresh token goes into an invoked actor's input, the tokens come back as its output. */
const renewal = setup({
  types: { context: {} as { generation: number } },
  actors: {
    refreshToken: fromPromise<{ accessToken: string; refreshToken: string }, { refreshToken: string }>(async () => ({
      accessToken: ACCESS,
      refreshToken: `${REFRESH}-rotated`,
    })),
  },
}).createMachine({
  context: { generation: 1 },
  initial: 'refreshing',
  states: {
    refreshing: {
      invoke: {
        id: 'refresh',
        src: 'refreshToken',
        input: () => ({ refreshToken: REFRESH }),
        onDone: { target: 'valid', actions: assign({ generation: ({ context }) => context.generation + 1 }) },
      },
    },
    valid: {},
  },
});

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('Stately inspector', () => {
  it('redacts tokens carried by an invoked actor (input and output) in every event sent', async () => {
    const sent: StatelyEvent[] = [];
    const inspector = createRedactingInspector(statelyInspect as never, { send: (event) => sent.push(event) });
    const actor = createActor(renewal, { inspect: inspector.inspect }).start();
    await waitFor(actor, (s) => s.matches('valid'), { timeout: 2_000 });
    // @statelyai/inspect delivers on an idle callback.
    await vi.waitFor(() => expect(sent.some((e) => e.type === '@xstate.snapshot' && JSON.stringify(e).includes('"valid"'))).toBe(true), {
      timeout: 2_000,
    });
    const all = JSON.stringify(sent);
    expect(all).not.toContain('Secret0123456789');
    expect(all).toContain('[redacted]');
    // What the inspector draws survives: states, machine definition, the non-secret context.
    expect(sent.some((e) => e.type === '@xstate.actor' && typeof e.definition === 'string')).toBe(true);
    expect(all).toContain('"generation":2');
    inspector.stop();
    actor.stop();
  });

  it('copes with circular live snapshots', () => {
    const loop: Record<string, unknown> = { accessToken: ACCESS, name: 'x' };
    loop.self = loop;
    const out = redactInspectionEvent({ type: '@xstate.snapshot', snapshot: loop });
    expect(JSON.stringify(out)).toBe('{"type":"@xstate.snapshot","snapshot":{"accessToken":"[redacted]","name":"x","self":"[circular]"}}');
  });

  it('costs nothing when off: no import at all', async () => {
    const importModule = vi.fn();
    expect(await inspectorFromEnv({}, silent, importModule)).toBeUndefined();
    expect(importModule).not.toHaveBeenCalled();
  });

  it('warns once and runs without it when the optional peer is missing', async () => {
    const warn = vi.fn();
    const result = await inspectorFromEnv({ OPENCODE_OAUTH_INSPECT: 'ws://127.0.0.1:9' }, { ...silent, warn }, async () => {
      throw Object.assign(new Error('Cannot find package'), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    expect(result).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toEqual({ reason: '@statelyai/inspect is not installed (npm i -D @statelyai/inspect)' });
  });

  it('does not keep the process alive while no relay listens (the reconnect timer is unref\'d and stopped)', async () => {
    const inspector = await inspectorFromEnv({ OPENCODE_OAUTH_INSPECT: 'ws://127.0.0.1:9' }, silent);
    expect(inspector).toBeDefined();
    const actor = createActor(renewal, { inspect: inspector!.inspect }).start();
    await waitFor(actor, (s) => s.matches('valid'), { timeout: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    const refTimers = handles.filter((h) => (h as { constructor?: { name?: string } }).constructor?.name === 'Timeout' && (h as { hasRef(): boolean }).hasRef());
    expect(refTimers).toEqual([]);
    inspector!.stop();
    actor.stop();
  });
});

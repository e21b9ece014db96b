import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import type { DeviceAuthorization } from '../../src/adapters/http/types.js';
import { deviceCodeMachine, pollIntervalSec } from '../../src/machines/deviceCode.js';
import type { TokenSet } from '../../src/machines/token.js';
import { errorInfo, metadata, token } from './fixtures.js';

type Answer = TokenSet | { fail: object };
const pending = { fail: errorInfo('transient', { oauthError: 'authorization_pending' }) };
const slowDown = (intervalSec?: number) => ({ fail: { ...errorInfo('transient', { oauthError: 'slow_down' }), ...(intervalSec ? { intervalSec } : {}) } });
const network = { fail: errorInfo('transient', { notSent: true }) };

/** Runs the real machine under fake timers; returns when each poll happened (ms since start) and the output. */
async function runDevice(authorization: Partial<DeviceAuthorization>, answers: Answer[]) {
  const polls: number[] = [];
  const machine = deviceCodeMachine.provide({
    actors: {
      discoverEndpoints: fromPromise(async () => metadata),
      generatePkce: fromPromise(async () => ({ verifier: 'v', challenge: 'c', method: 'S256' as const, state: 's' })),
      requestDeviceAuthorization: fromPromise(async () => ({ deviceCode: 'd', userCode: 'U', verificationUri: 'https://x/device', expiresIn: 600, ...authorization })),
      openBrowser: fromPromise<void, { url: string }>(async () => {}),
      pollToken: fromPromise(async () => {
        polls.push(Date.now());
        const answer = answers.shift();
        if (!answer) throw errorInfo('invalid_grant');
        if ('fail' in answer) throw answer.fail;
        return answer;
      }),
    },
  });
  const actor = createActor(machine, { input: { providerId: 'p', scopes: [], interactive: true, usePkce: true, openBrowser: false } }).start();
  for (let i = 0; i < 200 && actor.getSnapshot().status === 'active'; i++) await vi.advanceTimersToNextTimerAsync();
  expect(actor.getSnapshot().status).toBe('done');
  return { polls, output: actor.getSnapshot().output! };
}

beforeEach(() => vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => vi.useRealTimers());

describe('device-code polling schedule (RFC 8628 §3.4–3.5)', () => {
  it('interval missing or not a number: 5 s, and the first poll waits too', async () => {
    expect(pollIntervalSec(undefined)).toBe(5);
    expect(pollIntervalSec(Number.NaN)).toBe(5);
    expect(pollIntervalSec(0)).toBe(5);
    expect(pollIntervalSec(2.2)).toBe(3);
    const { polls, output } = await runDevice({}, [pending, token({ refreshToken: 'r' })]);
    expect(polls).toEqual([5000, 10000]);
    expect(output.status).toBe('succeeded');
  });

  it('slow_down adds 5 s for every later poll, or takes the server interval when it is larger', async () => {
    const { polls } = await runDevice({ interval: 2 }, [slowDown(), pending, slowDown(30), pending, token({ refreshToken: 'r' })]);
    // 2 → 7 (+5) → 7 → 30 (server) → 30
    expect(polls).toEqual([2000, 9000, 16000, 46000, 76000]);
  });

  it('network failures back off by 5 s each, capped at 60 s, never giving up, and reset on an answer', async () => {
    const answers: Answer[] = [...Array(14).fill(network), pending, token({ refreshToken: 'r' })];
    const { polls, output } = await runDevice({ interval: 5, expiresIn: 900 }, answers);
    const waits = polls.map((t, i) => t - (polls[i - 1] ?? 0));
    expect(waits).toEqual([5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000, 50000, 55000, 60000, 60000, 60000, 60000, 5000]);
    expect(output.status).toBe('succeeded');
  });

  it('stops at expires_in: no poll after it, expired_token', async () => {
    const { polls, output } = await runDevice({ interval: 5, expiresIn: 12 }, [pending, pending, pending]);
    expect(polls).toEqual([5000, 10000]);
    expect(output).toMatchObject({ status: 'failed', error: { code: 'expired_token' } });
  });
});

describe('device codes that live longer than a timer can wait (2^31-1 ms, ~24.8 days)', () => {
  it('a 30-day device code does not expire at once: the first poll (1 s) gets its token, on real timers', async () => {
    // Real timers on purpose: the overflow is Node's own (a delay past 2^31-1 ms fires after 1 ms).
    vi.useRealTimers();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    let polls = 0;
    const machine = deviceCodeMachine.provide({
      actors: {
        discoverEndpoints: fromPromise(async () => metadata),
        generatePkce: fromPromise(async () => ({ verifier: 'v', challenge: 'c', method: 'S256' as const, state: 's' })),
        requestDeviceAuthorization: fromPromise(async (): Promise<DeviceAuthorization> => ({ deviceCode: 'd', userCode: 'U', verificationUri: 'https://x/device', expiresIn: 30 * 86_400, interval: 1 })),
        openBrowser: fromPromise<void, { url: string }>(async () => {}),
        pollToken: fromPromise(async () => {
          polls += 1;
          return token({ refreshToken: 'r' });
        }),
      },
    });
    const actor = createActor(machine, { input: { providerId: 'p', scopes: [], interactive: true, usePkce: true, openBrowser: false } }).start();
    try {
      const output = await new Promise<unknown>((resolve) => {
        actor.subscribe((snapshot) => {
          if (snapshot.status === 'done') resolve(snapshot.output);
        });
      });
      // Before (661bc6b): { status: 'failed', error.code: 'expired_token' } after ~1 ms, 0 polls, one TimeoutOverflowWarning.
      expect(output).toMatchObject({ status: 'succeeded' });
      expect(polls).toBe(1);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
      actor.stop();
    }
  });
});

describe('a device-code poll whose answer was lost (uncertain, never re-sent by the adapter)', () => {
  const lost = { fail: errorInfo('uncertain') };
  const refused = { fail: errorInfo('invalid_grant', { oauthError: 'invalid_grant' }) };

  it('the next scheduled poll still pending: the login goes on and succeeds', async () => {
    const { polls, output } = await runDevice({ interval: 5 }, [lost, pending, token({ refreshToken: 'r' })]);
    expect(output.status).toBe('succeeded');
    expect(polls).toEqual([5000, 15000, 20000]);
  });

  it('the IdP then refuses the code: the login ends with "try the login again", not a bare invalid_grant', async () => {
    const { output } = await runDevice({ interval: 5 }, [lost, refused]);
    expect(output).toMatchObject({ status: 'failed', error: { code: 'uncertain', fix: 'try the login again' } });
    expect(output.status === 'failed' && output.error.message).toContain('its answer was lost');
  });
});

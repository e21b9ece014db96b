import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { hardMargin, isServable, refreshSchedule, softMargin } from '../../src/machines/refreshWindow.js';
import { tokenLifecycle } from '../../src/machines/tokenLifecycle.js';
import type { TokenSet } from '../../src/machines/token.js';

const S = 1000;
const token = (lifetimeMs: number, extra: Partial<TokenSet> = {}) => ({ issuedAt: 0, expiresAt: lifetimeMs, ...extra });
const noJitter = { skewMs: 0, jitterFraction: 0 };

describe('refresh windows', () => {
  it.each([
    // lifetime, soft margin, hard margin — the table of docs/lifecycle.md
    [8 * S, 4 * S, 2 * S],
    [60 * S, 30 * S, 10 * S],
    [300 * S, 150 * S, 30 * S],
    [3600 * S, 300 * S, 60 * S],
    [86_400 * S, 300 * S, 60 * S],
  ])('a %i ms token: soft %i ms, hard %i ms before expiry', (lifetime, soft, hard) => {
    expect(softMargin(lifetime, 0)).toBe(soft);
    expect(hardMargin(lifetime, 0)).toBe(hard);
    const schedule = refreshSchedule(token(lifetime), noJitter);
    expect(schedule).toEqual({ softAt: lifetime - soft, hardAt: lifetime - hard, expiresAt: lifetime });
  });

  it('an 8 s token is reused for 6 s and a 5-minute CI token for 4.5 minutes, even with a 30 s skew', () => {
    expect(refreshSchedule(token(8 * S), { skewMs: 30 * S, jitterFraction: 0 }).hardAt).toBe(6 * S);
    expect(refreshSchedule(token(300 * S), { skewMs: 30 * S, jitterFraction: 0 }).hardAt).toBe(270 * S);
  });

  it('the skew widens the hard margin up to L/4', () => {
    expect(hardMargin(3600 * S, 120 * S)).toBe(120 * S);
    expect(hardMargin(100 * S, 120 * S)).toBe(25 * S);
  });

  it('jitter moves only the soft deadline, by at most min(30 s, L/10)', () => {
    expect(softMargin(3600 * S, 1) - softMargin(3600 * S, 0)).toBe(30 * S);
    expect(softMargin(60 * S, 1) - softMargin(60 * S, 0)).toBe(6 * S);
    const jittered = refreshSchedule(token(3600 * S), { skewMs: 0, jitterFraction: 0.5 });
    expect(jittered.hardAt).toBe(3540 * S);
    expect(jittered.softAt).toBe(3600 * S - 300 * S - 15 * S);
  });

  it('a server hint or a subject token expiry only brings renewal earlier', () => {
    expect(refreshSchedule(token(3600 * S, { refreshBy: 600 * S }), noJitter).softAt).toBe(600 * S);
    expect(refreshSchedule(token(3600 * S, { refreshBy: 3590 * S }), noJitter).softAt).toBe(3300 * S);
  });

  it('a token is servable only before its hard deadline', () => {
    const schedule = refreshSchedule(token(60 * S), noJitter);
    expect(isServable(schedule, 49 * S)).toBe(true);
    expect(isServable(schedule, 50 * S)).toBe(false);
    expect(isServable(null, 0)).toBe(false);
  });
});

describe('tokenLifecycle timing on a real actor', () => {
  afterEach(() => vi.useRealTimers());

  it('an 8 s token moves to expiring exactly at its soft deadline, and a demand then renews it', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const stored: TokenSet = { accessToken: 'at', refreshToken: 'rt', tokenType: 'Bearer', issuedAt: 0, expiresAt: 8 * S };
    let refreshes = 0;
    const actor = createActor(
      tokenLifecycle.provide({
        actors: {
          readStore: fromPromise(async () => ({ generation: 1, token: stored })),
          acquireLock: fromPromise(async () => 'lease'),
          returnLock: fromPromise(async () => undefined),
          refreshToken: fromPromise(async () => {
            refreshes++;
            return { ...stored, accessToken: 'at-2', issuedAt: Date.now(), expiresAt: Date.now() + 8 * S };
          }),
          writeStore: fromPromise(async () => ({ generation: 2 })),
        } as never,
      }),
      { input: { providerId: 'p', flow: 'device_code', clock: { now: () => Date.now() }, timing: noJitter } },
    ).start();
    await vi.advanceTimersByTimeAsync(0);
    expect(actor.getSnapshot().value).toBe('valid');
    await vi.advanceTimersByTimeAsync(4 * S - 1);
    expect(actor.getSnapshot().value).toBe('valid');
    await vi.advanceTimersByTimeAsync(1);
    expect(actor.getSnapshot().value).toBe('expiring');
    expect(refreshes).toBe(0); // idle processes do not renew: only a demand does
    actor.send({ type: 'TOKEN.NEEDED' });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toBe(1);
    expect(actor.getSnapshot().value).toBe('valid');
    expect(actor.getSnapshot().context.token?.accessToken).toBe('at-2');
    expect(actor.getSnapshot().context.token?.refreshToken).toBe('rt'); // none came back: the old one is kept
    actor.stop();
  });
});

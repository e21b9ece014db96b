/**
 * Budget and rate per token, in memory and in a real redis-server shared by three gateway instances; Redis
 * down fails closed. The gateway's clock is the test's, so the rate windows are exact without timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, type CiIssuer } from '../../lab/index.mjs';
import { call, startRedis, startTestGateway, startUpstream, type RecordingUpstream, type RedisServer, type RunningGateway } from './support.js';

const AUDIENCE = 'gw-limits';
let ci: CiIssuer;
let upstream: RecordingUpstream;
let redis: RedisServer;

beforeAll(async () => {
  [ci, upstream, redis] = await Promise.all([startCiIssuer(), startUpstream(), startRedis()]);
});

afterAll(async () => {
  await Promise.all([ci?.stop(), upstream?.stop(), redis?.stop()]);
});

/** A clock the test moves: starts mid-second, a little ahead of real time so freshly minted tokens are valid. */
function testClock() {
  let ms = (Math.floor(Date.now() / 1000) + 2) * 1000 + 500;
  return { now: () => ms, advance: (by: number) => (ms += by) };
}

const env = (extra: Record<string, string> = {}) => ({
  OIDC_ISSUER: ci.issuer,
  OIDC_AUDIENCE: AUDIENCE,
  UPSTREAM_URL: upstream.url,
  ...extra,
});

async function statuses(gwUrl: string, token: string, n: number) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(gwUrl, token)).status);
  return out;
}

for (const store of ['memory', 'redis'] as const) {
  describe(`limits (${store})`, () => {
    let gw: RunningGateway;
    const clock = testClock();
    beforeAll(async () => {
      gw = await startTestGateway(
        env({ MAX_REQUESTS_PER_TOKEN: '5', RATE_LIMIT_PER_SECOND: '2', ...(store === 'redis' ? { REDIS_URL: redis.url } : {}) }),
        { now: clock.now },
      );
    });
    afterAll(async () => {
      await gw?.stop();
    });

    it('rate: the third request in one second gets 429 Rate limit exceeded with Retry-After; the next second passes', async () => {
      const token = await ci.mint({ aud: AUDIENCE });
      expect(await statuses(gw.url, token, 2)).toEqual([200, 200]);
      const limited = await call(gw.url, token);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(await limited.json()).toEqual({ error: 'Rate limit exceeded' });
      clock.advance(1000);
      expect((await call(gw.url, token)).status).toBe(200);
    });

    it('budget: MAX_REQUESTS_PER_TOKEN requests, then 429 Token budget exhausted; another token has its own', async () => {
      const token = await ci.mint({ aud: AUDIENCE });
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        seen.push(...(await statuses(gw.url, token, 2)));
        clock.advance(1000);
      }
      expect(seen).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      const res = await call(gw.url, token);
      expect(await res.json()).toEqual({ error: 'Token budget exhausted' });
      expect(res.headers.get('retry-after')).toBeNull();
      expect((await call(gw.url, await ci.mint({ aud: AUDIENCE }))).status).toBe(200);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toMatch(/oc_gateway_budget_rejections_total\{reason="budget"\} [1-9]/);
    });

    it('a token without jti is budgeted by iss:iat:sub', async () => {
      const token = await ci.mint({ aud: AUDIENCE, claims: { jti: undefined } });
      const same = await ci.mint({ aud: AUDIENCE, claims: { jti: undefined }, iat: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iat });
      clock.advance(1000);
      expect(await statuses(gw.url, token, 2)).toEqual([200, 200]);
      expect((await call(gw.url, same)).status, 'same iss:iat:sub shares the window').toBe(429);
    });
  });
}

describe('verified-token cache', () => {
  it('a token verified once is still checked for exp and max age on every later request', async () => {
    const clock = testClock();
    const gw = await startTestGateway(env({ MAX_TOKEN_AGE_SECONDS: '60' }), { now: clock.now });
    try {
      const short = await ci.mint({ aud: AUDIENCE, ttlSec: 30 });
      expect((await call(gw.url, short)).status).toBe(200);
      clock.advance(31_000);
      const expired = await call(gw.url, short);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ check: 'exp' });
      const long = await ci.mint({ aud: AUDIENCE, ttlSec: 600 });
      clock.advance(1000);
      expect((await call(gw.url, long)).status).toBe(200);
      clock.advance(61_000);
      expect(await (await call(gw.url, long)).json()).toMatchObject({ check: 'max_age' });
    } finally {
      await gw.stop();
    }
  });
});

describe('Redis shared by three instances', () => {
  it('30 concurrent requests on a budget of 10 across 3 instances: exactly 10 succeed', async () => {
    const clock = testClock();
    const gws = await Promise.all(
      [0, 1, 2].map(() => startTestGateway(env({ MAX_REQUESTS_PER_TOKEN: '10', RATE_LIMIT_PER_SECOND: '1000', REDIS_URL: redis.url }), { now: clock.now })),
    );
    try {
      const token = await ci.mint({ aud: AUDIENCE });
      const before = upstream.requests.length;
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call(gws[i % 3]!.url, token).then(async (r) => ({ status: r.status, body: await r.text() }))));
      const ok = results.filter((r) => r.status === 200).length;
      const exhausted = results.filter((r) => r.status === 429 && r.body.includes('Token budget exhausted')).length;
      console.log(`redis exactness: ${ok} of 30 succeeded on a budget of 10 across 3 instances (${exhausted} budget-exhausted)`);
      expect(ok).toBe(10);
      expect(exhausted).toBe(20);
      expect(upstream.requests.length - before).toBe(10);
      for (const g of gws) expect(g.logs.length, 'every instance answered its share').toBe(10);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
    }
  });

  it('the rate window is shared too: 3 instances, rate 2 → 2 of 6 simultaneous requests pass', async () => {
    const clock = testClock();
    const gws = await Promise.all(
      [0, 1, 2].map(() => startTestGateway(env({ MAX_REQUESTS_PER_TOKEN: '100', RATE_LIMIT_PER_SECOND: '2', REDIS_URL: redis.url }), { now: clock.now })),
    );
    try {
      const token = await ci.mint({ aud: AUDIENCE });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => call(gws[i % 3]!.url, token)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
    }
  });

  it('Redis down: fail closed (503, never an unbudgeted 200), bounded', async () => {
    const own = await startRedis();
    const gw = await startTestGateway(env({ REDIS_URL: own.url }), { redisTimeoutMs: 500 });
    try {
      const token = await ci.mint({ aud: AUDIENCE });
      expect((await call(gw.url, token)).status).toBe(200);
      await own.stop();
      const before = upstream.requests.length;
      for (let i = 0; i < 3; i++) {
        const res = await call(gw.url, token, { signal: AbortSignal.timeout(5000) });
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ error: 'Budget store unavailable' });
      }
      expect(upstream.requests.length).toBe(before);
      expect(gw.logs.filter((l) => l.outcome === 'store_unavailable').length).toBe(3);
    } finally {
      await gw.stop();
      await own.stop();
    }
  });

  it('a hung Redis (accepts, never answers) is refused within the bound', async () => {
    const { startHungServer } = await import('./support.js');
    const hung = await startHungServer();
    const gw = await startTestGateway(env({ REDIS_URL: hung.url.replace('http', 'redis') }), { redisTimeoutMs: 300 });
    try {
      const res = await call(gw.url, await ci.mint({ aud: AUDIENCE }), { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(503);
    } finally {
      await gw.stop();
      await hung.stop();
    }
  });
});

/**
 * Every validation rule of the gateway, through the Node host, against the lab's CI issuer (ordinary tokens)
 * and a key server the test controls (crafted tokens: rotation, forged iss, HS256, none, EdDSA).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, type CiIssuer } from '../../lab/index.mjs';
import {
  call,
  startHungServer,
  startKeyServer,
  startTestGateway,
  startUpstream,
  type KeyServer,
  type RecordingUpstream,
  type RunningGateway,
} from './support.js';

const AUDIENCE = 'gw-test';
let ci: CiIssuer;
let ciRs: CiIssuer;
let keys: KeyServer;
let upstream: RecordingUpstream;
let gw: RunningGateway;

beforeAll(async () => {
  [ci, ciRs, keys, upstream] = await Promise.all([startCiIssuer(), startCiIssuer({ alg: 'RS256' }), startKeyServer('EdDSA'), startUpstream()]);
  gw = await startTestGateway(
    {
      OIDC_ISSUER: ci.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      ALLOWED_REPOS: 'octo-org/octo-repo, octo-org/other',
      ALLOWED_REFS: 'refs/heads/main',
      UPSTREAM_URL: upstream.url,
    },
    {
      file: {
        issuers: [
          { issuer: ciRs.issuer, audience: 'rs-aud' },
          { issuer: keys.issuer, audience: AUDIENCE, claims: { environment: ['production', 'staging'] } },
        ],
      },
    },
  );
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([ci?.stop(), ciRs?.stop(), keys?.stop(), upstream?.stop()]);
});

const now = () => Math.floor(Date.now() / 1000);

async function rejectedBy(token: string | undefined, init: Parameters<typeof call>[2] = {}) {
  const before = upstream.requests.length;
  const res = await call(gw.url, token, init);
  const body = (await res.json()) as { error: string; check?: string };
  expect(upstream.requests.length, 'a rejected request never reaches the upstream').toBe(before);
  return { status: res.status, ...body };
}

describe('gateway validation', () => {
  it('accepts a valid ES256 token from the CI issuer, by bearer and by x-api-key', async () => {
    const token = await ci.mint({ aud: AUDIENCE });
    const res = await call(gw.url, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, path: '/v1/chat/completions' });
    const viaApiKey = await call(gw.url, undefined, { headers: { 'x-api-key': await ci.mint({ aud: AUDIENCE }) } });
    expect(viaApiKey.status).toBe(200);
  });

  it('accepts RS256 (second issuer, its own audience) and EdDSA (third issuer with a claim rule)', async () => {
    expect((await call(gw.url, await ciRs.mint({ aud: 'rs-aud' }))).status).toBe(200);
    expect((await call(gw.url, await keys.sign({ environment: 'production' }))).status).toBe(200);
  });

  it('missing token', async () => {
    expect(await rejectedBy(undefined)).toMatchObject({ status: 401, check: 'token_missing' });
    expect(await rejectedBy(undefined, { headers: { authorization: 'Basic dTpw' } })).toMatchObject({ status: 401, check: 'token_missing' });
  });

  it('malformed token', async () => {
    expect(await rejectedBy('not-a-jwt')).toMatchObject({ status: 401, check: 'token_malformed' });
    expect(await rejectedBy('a.b')).toMatchObject({ status: 401, check: 'token_malformed' });
    expect(await rejectedBy('!!!.b.c')).toMatchObject({ status: 401, check: 'token_malformed' });
    expect(await rejectedBy('eyJub3QganNvbg.e30.c2ln')).toMatchObject({ status: 401, check: 'token_malformed' });
  });

  it('bad signature (checked before any claim: an expired, wrong-audience forgery only learns "signature")', async () => {
    const token = await ci.mint({ aud: 'someone-else', ttlSec: -60 });
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expect(await rejectedBy(`${h}.${p}.${flipped}`)).toMatchObject({ status: 401, check: 'signature', error: 'Token signature invalid' });
    // A valid signature over other claims: the payload of a good token swapped in.
    const good = (await ci.mint({ aud: AUDIENCE })).split('.');
    expect(await rejectedBy(`${good[0]}.${p}.${good[2]}`)).toMatchObject({ status: 401, check: 'signature' });
  });

  it('wrong repository, ref, audience', async () => {
    expect(await rejectedBy(await ci.mint({ aud: AUDIENCE, claims: { repository: 'evil/repo' } }))).toMatchObject({ status: 401, check: 'repository' });
    expect(await rejectedBy(await ci.mint({ aud: AUDIENCE, claims: { ref: 'refs/heads/feature' } }))).toMatchObject({ status: 401, check: 'ref' });
    expect(await rejectedBy(await ci.mint({ aud: 'other-aud' }))).toMatchObject({ status: 401, check: 'aud' });
    expect((await call(gw.url, await ci.mint({ aud: ['x', AUDIENCE] }))).status).toBe(200);
    // Each issuer has its own audience: the RS256 issuer's token for the ES256 issuer's audience is refused.
    expect(await rejectedBy(await ciRs.mint({ aud: AUDIENCE }))).toMatchObject({ status: 401, check: 'aud' });
  });

  it('wrong issuer: an untrusted issuer’s key is unknown; a trusted key vouching for another iss is refused', async () => {
    const stranger = await startCiIssuer();
    try {
      expect(await rejectedBy(await stranger.mint({ aud: AUDIENCE }))).toMatchObject({ status: 401, check: 'kid' });
    } finally {
      await stranger.stop();
    }
    expect(await rejectedBy(await keys.sign({ iss: ci.issuer, environment: 'production' }))).toMatchObject({ status: 401, check: 'iss' });
  });

  it('claim rules from the config file', async () => {
    expect(await rejectedBy(await keys.sign({ environment: 'dev' }))).toMatchObject({ status: 401, check: 'claim:environment' });
    expect(await rejectedBy(await keys.sign({}))).toMatchObject({ status: 401, check: 'claim:environment' });
  });

  it('expired', async () => {
    expect(await rejectedBy(await ci.mint({ aud: AUDIENCE, ttlSec: -1 }))).toMatchObject({ status: 401, check: 'exp', error: 'Token expired' });
    expect(await rejectedBy(await keys.sign({ environment: 'production', exp: undefined }))).toMatchObject({ status: 401, check: 'exp' });
  });

  it('too old: iat beyond MAX_TOKEN_AGE_SECONDS (default 1200) although exp is still ahead', async () => {
    const token = await ci.mint({ aud: AUDIENCE, iat: now() - 1300, ttlSec: 1600 });
    expect(await rejectedBy(token)).toMatchObject({ status: 401, check: 'max_age', error: 'Token too old' });
    expect((await call(gw.url, await ci.mint({ aud: AUDIENCE, iat: now() - 1100, ttlSec: 1600 }))).status).toBe(200);
  });

  it('expired within max age: exp is enforced even when iat is young enough (goose #8832)', async () => {
    const token = await ci.mint({ aud: AUDIENCE, iat: now() - 400, ttlSec: 300 });
    expect(await rejectedBy(token)).toMatchObject({ status: 401, check: 'exp' });
  });

  it('nbf in the future, iat in the future', async () => {
    expect(await rejectedBy(await ci.mint({ aud: AUDIENCE, claims: { nbf: now() + 120 } }))).toMatchObject({ status: 401, check: 'nbf' });
    expect(await rejectedBy(await keys.sign({ environment: 'production', iat: now() + 120 }))).toMatchObject({ status: 401, check: 'iat' });
  });

  it('HS256 with the trusted kid, and alg none, are refused by the allow-list', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { iss: keys.issuer, aud: AUDIENCE, iat: now(), exp: now() + 300, environment: 'production', repository: 'octo-org/octo-repo' };
    const hsInput = `${b64({ alg: 'HS256', kid: keys.currentKid, typ: 'JWT' })}.${b64(claims)}`;
    const hs = `${hsInput}.${createHmac('sha256', 'guessable').update(hsInput).digest('base64url')}`;
    expect(await rejectedBy(hs)).toMatchObject({ status: 401, check: 'alg' });
    expect(await rejectedBy(`${b64({ alg: 'none' })}.${b64(claims)}.`)).toMatchObject({ status: 401, check: 'alg' });
    expect(await rejectedBy(`${b64({ alg: 'NONE', kid: keys.currentKid })}.${b64(claims)}.`)).toMatchObject({ status: 401, check: 'alg' });
  });

  it('unknown kid refetches the JWKS at most once per cooldown', async () => {
    await call(gw.url, await keys.sign({ environment: 'production' }));
    const before = keys.counters.jwks;
    for (const kid of ['ghost-1', 'ghost-2', 'ghost-3']) {
      const forged = await keys.sign({ environment: 'production' }, { header: { kid } });
      expect(await rejectedBy(forged)).toMatchObject({ status: 401, check: 'kid' });
    }
    expect(keys.counters.jwks - before).toBeLessThanOrEqual(1);
  });

  it('rotated key: a token under a new kid is accepted after one refetch', async () => {
    const rotating = await startKeyServer('RS256');
    const rotGw = await startTestGateway({ OIDC_ISSUER: rotating.issuer, OIDC_AUDIENCE: AUDIENCE, UPSTREAM_URL: upstream.url });
    try {
      const oldKid = rotating.currentKid;
      expect((await call(rotGw.url, await rotating.sign())).status).toBe(200);
      const fetchesBefore = rotating.counters.jwks;
      await rotating.rotate();
      expect((await call(rotGw.url, await rotating.sign())).status).toBe(200);
      expect(rotating.counters.jwks - fetchesBefore).toBe(1);
      // The retired key is gone from the refetched set: its tokens are refused.
      const res = await call(rotGw.url, await rotating.sign({}, { kid: oldKid }));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ check: 'kid' });
    } finally {
      await rotGw.stop();
      await rotating.stop();
    }
  });

  it('discovery outage (refused, 500, hung) and JWKS outage: 503 naming it, bounded, never 200', async () => {
    const hung = await startHungServer();
    const down = await startKeyServer();
    down.fail.discovery = 500;
    const jwksDown = await startKeyServer();
    jwksDown.fail.jwks = 503;
    const cases = [
      { issuer: 'http://127.0.0.1:9', token: await down.sign(), what: 'discovery' },
      { issuer: down.issuer, token: await down.sign(), what: 'discovery' },
      { issuer: hung.url, token: await down.sign(), what: 'discovery' },
      { issuer: jwksDown.issuer, token: await jwksDown.sign(), what: 'jwks' },
    ];
    try {
      for (const c of cases) {
        const outGw = await startTestGateway({ OIDC_ISSUER: c.issuer, OIDC_AUDIENCE: AUDIENCE, UPSTREAM_URL: upstream.url });
        try {
          const before = upstream.requests.length;
          const res = await call(outGw.url, c.token, { signal: AbortSignal.timeout(10_000) });
          expect(res.status, c.issuer).toBe(503);
          expect(await res.json()).toEqual({ error: `Token issuer unavailable (${c.what})` });
          expect(upstream.requests.length).toBe(before);
        } finally {
          await outGw.stop();
        }
      }
      // The issuer comes back: the next request discovers again and passes.
      down.fail.discovery = 0;
      const back = await startTestGateway({ OIDC_ISSUER: down.issuer, OIDC_AUDIENCE: AUDIENCE, UPSTREAM_URL: upstream.url });
      try {
        down.fail.discovery = 500;
        expect((await call(back.url, await down.sign())).status).toBe(503);
        down.fail.discovery = 0;
        expect((await call(back.url, await down.sign())).status).toBe(200);
      } finally {
        await back.stop();
      }
    } finally {
      await Promise.all([hung.stop(), down.stop(), jwksDown.stop()]);
    }
  });

  it('metrics count outcomes and checks; logs carry repository/ref/token_id and never a token or key', async () => {
    const token = await ci.mint({ aud: AUDIENCE });
    await call(gw.url, token);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/oc_gateway_requests_total\{outcome="ok"\} \d+/);
    expect(metrics).toMatch(/oc_gateway_rejections_total\{check="signature"\} [1-9]/);
    expect(metrics).toMatch(/oc_gateway_upstream_latency_seconds_count [1-9]/);
    const okLine = gw.logs.find((l) => l.outcome === 'ok' && l.iss === ci.issuer);
    expect(okLine).toMatchObject({ repository: 'octo-org/octo-repo', ref: 'refs/heads/main', status: 200 });
    expect(okLine?.token_id).toMatch(/^[0-9a-f]{16}$/);
    const all = JSON.stringify(gw.logs);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('sk-upstream');
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

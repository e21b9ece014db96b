/**
 * The upstream key from our own token engine: client_credentials at the lab IdP, injected as the bearer the
 * lab model gateway introspects. No static key anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startGateway, startIdp, type CiIssuer, type Gateway, type Idp } from '../../lab/index.mjs';
import { call, startTestGateway } from './support.js';

let ci: CiIssuer;
let idp: Idp;
let upstream: Gateway;
// The engine's default file store lives in the cache dir: keep it inside this test's temp dir.
const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'gw-engine-'));
process.env.XDG_CACHE_HOME = cacheHome;

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci });
  upstream = await startGateway({ idp, models: ['lab-model'] });
});

afterAll(async () => {
  await Promise.all([upstream?.stop(), idp?.stop(), ci?.stop()]);
  rmSync(cacheHome, { recursive: true, force: true });
});

const server = (overrides: Record<string, unknown> = {}) => ({
  id: 'upstream-idp',
  issuer: idp.issuer,
  clientId: idp.clients.basic.client_id,
  clientSecret: idp.clients.basic.client_secret,
  clientAuthMethod: 'client_secret_basic',
  scopes: ['api:read'],
  authFlow: 'client_credentials',
  ...overrides,
});

describe('upstream credential from the token engine', () => {
  it('a client_credentials token from the IdP is the injected key; renewed tokens are reused, not re-minted', async () => {
    const gw = await startTestGateway(
      { OIDC_ISSUER: ci.issuer, OIDC_AUDIENCE: 'gw-engine', UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: undefined },
      { file: { upstream: { authHeader: 'authorization', authPrefix: 'Bearer ', engine: { servers: [server()], provider: 'upstream-idp' } } } },
    );
    try {
      const before = idp.grantCount('client_credentials').successes;
      for (let i = 0; i < 3; i++) {
        const res = await call(gw.url, await ci.mint({ aud: 'gw-engine' }), { method: 'GET', path: '/v1/models' });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['lab-model']);
      }
      const lists = upstream.requests.filter((r) => r.path === '/v1/models');
      expect(lists.length).toBe(3);
      expect(lists.every((r) => r.authorized && r.client_id === idp.clients.basic.client_id)).toBe(true);
      expect(idp.grantCount('client_credentials').successes - before).toBe(1);
      expect(JSON.stringify(gw.logs)).not.toContain(idp.clients.basic.client_secret!);
    } finally {
      await gw.stop();
    }
  });

  it('the engine cannot get a token (wrong secret): 503 Upstream credential unavailable, nothing forwarded', async () => {
    const gw = await startTestGateway(
      { OIDC_ISSUER: ci.issuer, OIDC_AUDIENCE: 'gw-engine', UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: undefined },
      { file: { upstream: { authHeader: 'authorization', authPrefix: 'Bearer ', engine: { servers: [server({ id: 'bad', clientSecret: 'wrong' })], provider: 'bad' } } } },
    );
    try {
      const before = upstream.requests.length;
      const res = await call(gw.url, await ci.mint({ aud: 'gw-engine' }), { method: 'GET', path: '/v1/models' });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'Upstream credential unavailable' });
      expect(upstream.requests.length).toBe(before);
    } finally {
      await gw.stop();
    }
  });

  it('a broken server block or an unknown provider stops the gateway at start, naming it', async () => {
    const env = { OIDC_ISSUER: ci.issuer, OIDC_AUDIENCE: 'gw-engine', UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: undefined };
    const file = (servers: unknown[], provider: string) => ({ upstream: { authHeader: 'authorization', engine: { servers, provider } } });
    await expect(startTestGateway(env, { file: file([{ id: 'x', authFlow: 'client_credentials' }], 'x') })).rejects.toThrow(/upstream\.engine: .*x/);
    await expect(startTestGateway(env, { file: file([server()], 'nope') })).rejects.toThrow(/provider nope is not among the servers/);
  });
});

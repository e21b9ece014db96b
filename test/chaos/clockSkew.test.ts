/**
 * This machine's clock ±10 min off the IdP's. Relative lifetimes (`expires_in`) are immune; what is
 * judged in the IdP's clock (the iat/exp of our client assertions) is signed in it, learnt from the
 * `Date` header of its answers. Never a token the IdP already considers expired.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../../lab/index.mjs';
import { createFileStore } from '../../src/adapters/storage/index.js';
import { createTokenEngine, type TokenEngine } from '../../src/runtime/index.js';
import { browserEnv, printed, recordingLogger, rememberSecret, removeTempDirs, scanForSecrets, tempDir } from './support.js';

const MIN = 60_000;
let idp: Idp;
const engines: TokenEngine[] = [];

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtl: 300 });
  rememberSecret(String(idp.clients.privateKeyJwt.privateJwk.d));
});
afterEach(() => engines.splice(0).forEach((e) => e.stop()));
afterAll(async () => {
  await idp.stop();
  await removeTempDirs();
  scanForSecrets();
});

async function skewedEngine(skewMs: number, server: Record<string, unknown>) {
  const created = createTokenEngine({
    servers: [{ id: 'corp', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', ...server }],
    store: createFileStore({ dir: await tempDir() }),
    now: () => Date.now() + skewMs,
    logger: recordingLogger(),
    notify: (n) => void printed.push(n.text),
    flowDeps: { env: browserEnv() },
  });
  engines.push(created);
  return created;
}

/** The IdP's own expiry of a token, in the skewed client's clock. */
async function idpExpiryInClientClock(accessToken: string, skewMs: number): Promise<number> {
  const introspection = await idp.introspect(accessToken);
  expect(introspection.active).toBe(true);
  return (introspection.exp as number) * 1000 + skewMs;
}

describe.each([-10 * MIN, 10 * MIN])('client clock %i ms off the IdP', (skewMs) => {
  it('private_key_jwt client_credentials: the assertion is accepted and the token expires no later than the IdP says', async () => {
    const engine = await skewedEngine(skewMs, {
      clientId: idp.clients.privateKeyJwt.client_id,
      clientAuthMethod: 'private_key_jwt',
      privateKey: idp.clients.privateKeyJwt.privateJwk,
      authFlow: 'client_credentials',
      scopes: ['api:read'],
    });
    idp.resetCounters();
    // Before (661bc6b), 10 min behind: the assertion's exp (our now + 60 s) is 9 min in the IdP's past → invalid_client.
    const token = await engine.getToken('corp');
    rememberSecret(token.accessToken);
    expect(token.expiresAt).toBeLessThanOrEqual((await idpExpiryInClientClock(token.accessToken, skewMs)) + 1_000);
    expect(idp.grantCount('client_credentials')).toMatchObject({ requests: 1, successes: 1 });
  });

  it('a user login: the token served is one the IdP still considers valid, and is served again from the store', async () => {
    const engine = await skewedEngine(skewMs, {
      clientId: idp.clients.native.client_id,
      scopes: ['openid', 'offline_access', 'api:read'],
      authFlow: 'authorization_code',
    });
    const login = await engine.login('corp');
    rememberSecret(login.accessToken, login.refreshToken);
    expect(login.expiresAt).toBeLessThanOrEqual((await idpExpiryInClientClock(login.accessToken, skewMs)) + 1_000);
    expect((await engine.getToken('corp')).accessToken).toBe(login.accessToken);
  });
});

/**
 * Issue 9 against the lab's real oidc-provider: what real IdPs do that the happy paths never show.
 * Each case names what the code before (661bc6b) did.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT, startCiIssuer, startIdp, type CiIssuer, type Idp } from '../../lab/index.mjs';
import { createTokenEndpointAdapter } from '../../src/adapters/http/index.js';
import { createFileStore } from '../../src/adapters/storage/index.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { runFlow, type FlowNotice } from '../../src/flows/index.js';
import { createTokenEngine, providerSettings, type TokenEngine } from '../../src/runtime/index.js';
import { rejectionOf } from './labSupport.js';

let ci: CiIssuer;
let idp: Idp;
const engines: TokenEngine[] = [];
const dirs: string[] = [];
const browserEnv = () => ({ ...process.env, BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'idp-hardening-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci, deviceInterval: 1 });
});
afterAll(async () => {
  engines.splice(0).forEach((e) => e.stop());
  await Promise.all([idp.stop(), ci.stop()]);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
beforeEach(() => {
  idp.clearFaults();
  idp.resetCounters();
});

/** One provider block through the real config layer, as the engine and plugin read it. */
function providerFrom(block: Record<string, unknown>) {
  const parsed = parseOpenCodeConfig({ provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: block } } } });
  expect(parsed.errors.map((e) => e.message)).toEqual([]);
  return parsed.providers[0]!;
}

describe('9.4 a lost authorization-code exchange is never re-sent', () => {
  it('the first exchange is slower than the timeout: one code request, a "try the login again" error, nothing stored', async () => {
    // The IdP processes the first exchange after 1.5 s; the client gives up after 0.4 s.
    idp.fault({ fault: 'delay_ms', ms: 1_500, grantType: 'authorization_code' });
    const dir = await tempDir();
    const engine = createTokenEngine({
      servers: [{ id: 'corp', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', clientId: idp.clients.native.client_id, scopes: ['openid', 'offline_access', 'api:read'], authFlow: 'authorization_code', httpTimeoutMs: 400 }],
      store: createFileStore({ dir }),
      notify: () => {},
      flowDeps: { env: browserEnv() },
    });
    engines.push(engine);
    const error = await rejectionOf(engine.login('corp'));
    // Before: the exchange was re-sent after the timeout (2 code requests), the second one "succeeded" and
    // was stored, then the IdP saw the code reused and revoked the grant: both tokens inactive.
    expect(error.message).toContain('answer was lost');
    expect(error.message).toContain('try the login again');
    expect(idp.grantCount('authorization_code').requests).toBe(1);
    const files = (await readdir(dir, { recursive: true })).filter((f) => !f.endsWith('.lock'));
    expect(files.filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(await engine.status()).toMatchObject([{ providerId: 'corp' }]);
  });
});

describe('9.5 authorizationParams', () => {
  it('prompt=consent from the config makes an IdP that needs it issue the refresh token; extra parameters reach /auth', async () => {
    const strict = await startIdp({ alwaysIssueRefreshToken: false });
    try {
      const provider = providerFrom({
        issuer: strict.issuer,
        clientId: strict.clients.native.client_id,
        scopes: ['openid', 'offline_access', 'api:read'],
        openBrowser: false,
        authorizationParams: { prompt: 'consent', ui_locales: 'de-CH', max_age: 0 },
      });
      let url = '';
      const token = await runFlow(
        {
          ...providerSettings(provider).provider,
          interactive: true,
          notify: (n: FlowNotice) => {
            if (n.kind !== 'browser') return;
            url = n.url!;
            void strict.browserLogin(n.url!);
          },
        },
        { http: createTokenEndpointAdapter() },
      );
      // Before: the field did not exist (prompt could not be set), so the login ended in no_refresh_token.
      expect(token.refreshToken).toBeTruthy();
      const q = new URL(url).searchParams;
      expect([q.get('prompt'), q.get('ui_locales'), q.get('max_age')]).toEqual(['consent', 'de-CH', '0']);
      expect(q.getAll('state')).toHaveLength(1);
    } finally {
      await strict.stop();
    }
  });

  it('refuses to let authorizationParams replace a parameter the flow sets, naming the field', () => {
    const parsed = parseOpenCodeConfig({
      provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: { issuer: idp.issuer, clientId: 'x', scopes: ['openid'], authorizationParams: { state: 'fixed' } } } } },
    });
    expect(parsed.errors.map((e) => e.message).join('\n')).toMatch(/corp: authorizationParams must be an object .*state/);
  });
});

describe('9.6 private_key_jwt audience (Keycloak refuses the device and revocation endpoint as aud)', () => {
  it('device authorization and revocation with an assertion addressed to the issuer', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = 'kc-device';
    const strict = await startIdp({
      strictAssertionAudience: true,
      deviceInterval: 1,
      clients: [
        {
          client_id: 'kc-device', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
          grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], redirect_uris: [], response_types: [],
        },
      ],
    });
    try {
      const provider = providerFrom({
        issuer: strict.issuer, clientId: 'kc-device', authFlow: 'device_code', scopes: ['openid', 'offline_access'],
        privateKey: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, pkce: false,
      });
      const http = createTokenEndpointAdapter();
      const settings = providerSettings(provider);
      const token = await runFlow(
        { ...settings.provider, interactive: true, notify: (n: FlowNotice) => void (n.kind === 'device_code' && strict.approveDevice(n.url!)) },
        { http, openUrl: async () => {} },
      );
      // Before: the assertion's aud was the device authorization endpoint → 401 invalid_client.
      expect(strict.counters.deviceAuthorization.successes).toBe(1);
      expect(token.refreshToken).toBeTruthy();
      await http.revoke({ providerId: 'corp', endpoint: strict.revocationEndpoint, issuer: strict.issuer, clientAuth: settings.provider.clientAuth, token: token.refreshToken!, tokenTypeHint: 'refresh_token' });
      expect(strict.counters.revocation).toBe(1);
      expect((await strict.introspect(token.accessToken)).active).toBe(false);
    } finally {
      await strict.stop();
    }
  });

  it('clientAssertionAudience "token_endpoint" addresses the token endpoint instead', async () => {
    const provider = providerFrom({
      issuer: idp.issuer, clientId: idp.clients.privateKeyJwt.client_id, authFlow: 'client_credentials', scopes: ['api:read'],
      privateKey: idp.clients.privateKeyJwt.privateJwk, clientAssertionAudience: 'token_endpoint',
    });
    const clientAuth = providerSettings(provider).provider.clientAuth;
    expect(clientAuth).toMatchObject({ method: 'private_key_jwt', audienceKind: 'token_endpoint' });
    const token = await runFlow({ ...providerSettings(provider).provider, interactive: false, notify: () => {} }, { http: createTokenEndpointAdapter() });
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
  });
});

describe('9.7 clientAssertionSource: a federated client assertion for client_credentials', () => {
  it('reads a CI JWT from a file (AZURE_FEDERATED_TOKEN_FILE style) for every request and sends it as client_assertion', async () => {
    const dir = await tempDir();
    const file = join(dir, 'azure-identity-token');
    await writeFile(file, await ci.mint({ aud: idp.issuer }), { mode: 0o600 });
    const engine = createTokenEngine({
      servers: [{ id: 'azure', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', clientId: idp.clients.federated.client_id, authFlow: 'client_credentials', scopes: ['api:read'], clientAssertionSource: { type: 'file', path: file } }],
      store: createFileStore({ dir: join(dir, 'store') }),
      notify: () => {},
    });
    engines.push(engine);
    // Before: the config was refused (clientSecret is required for client_credentials).
    expect(engine.issues).toEqual([]);
    const token = await engine.getToken('azure');
    const introspection = await idp.introspect(token.accessToken);
    expect(introspection).toMatchObject({ active: true, client_id: idp.clients.federated.client_id, sub: expect.stringMatching(/^repo:/) });
    expect(idp.grantCount('client_credentials')).toMatchObject({ requests: 1, successes: 1 });
    // Rotated on disk (kubelet/Azure rewrite it): the next acquisition reads the new one.
    await writeFile(file, await ci.mint({ aud: idp.issuer, sub: 'repo:octo-org/other:ref:refs/heads/main' }), { mode: 0o600 });
    engine.stop();
    const again = createTokenEngine({
      servers: [{ id: 'azure', issuer: idp.issuer, baseURL: 'http://127.0.0.1:9/v1', clientId: idp.clients.federated.client_id, authFlow: 'client_credentials', scopes: ['api:read'], clientAssertionSource: { type: 'file', path: file } }],
      store: createFileStore({ dir: join(dir, 'store2') }),
      notify: () => {},
    });
    engines.push(again);
    const second = await again.getToken('azure');
    expect((await idp.introspect(second.accessToken)).sub).toBe('repo:octo-org/other:ref:refs/heads/main');
  });

  it('a wrong audience on the federated token is invalid_client naming the provider, with no token in the error', async () => {
    const dir = await tempDir();
    const file = join(dir, 'token');
    const jwt = await ci.mint({ aud: 'api://AzureADTokenExchange-elsewhere' });
    await writeFile(file, jwt, { mode: 0o600 });
    const provider = providerFrom({ issuer: idp.issuer, clientId: idp.clients.federated.client_id, authFlow: 'client_credentials', scopes: ['api:read'], clientAssertionSource: { type: 'file', path: file } });
    const error = await rejectionOf(runFlow({ ...providerSettings(provider).provider, interactive: false, notify: () => {} }, { http: createTokenEndpointAdapter() }));
    expect(error).toMatchObject({ code: 'invalid_client', providerId: 'corp' });
    expect(`${error.message}${JSON.stringify(error)}`).not.toContain(jwt);
  });

  it('refuses clientAssertionSource together with a clientSecret', () => {
    const parsed = parseOpenCodeConfig({
      provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: { issuer: idp.issuer, clientId: 'x', scopes: ['a'], authFlow: 'client_credentials', clientSecret: 's3cr3t-value', clientAssertionSource: { type: 'env', var: 'X' } } } } },
    });
    expect(parsed.errors.map((e) => e.message).join('\n')).toContain('corp: clientAssertionSource is the client\'s credential');
  });
});

import { describe, expect, expectTypeOf, it } from 'vitest';
import { DEFAULT_KUBERNETES_TOKEN_PATH, JWT_TOKEN_TYPE, parseEngineServers, parseOpenCodeConfig } from '../../src/config/index.js';
import { BASE, ISSUER, MINIMAL, parseBlock } from './helpers.js';

function onlyProvider(block: unknown) {
  const result = parseBlock(block);
  expect(result.errors).toEqual([]);
  expect(result.providers).toHaveLength(1);
  // Loosely typed on purpose: these tests read fields of whichever variant the block made (the types are tested below).
  return result.providers[0]! as Record<string, any>;
}

describe('defaults', () => {
  it('a minimal block gets every default of the reference and of the new fields', () => {
    expect(onlyProvider(MINIMAL)).toEqual({
      id: 'corp',
      name: 'corp',
      enabled: true,
      source: 'provider.corp.options.oauth2',
      flow: 'authorization_code',
      issuer: ISSUER,
      clientId: 'opencode',
      client: { method: 'none' },
      scopes: ['openid', 'offline_access'],
      endpoints: {},
      redirectPath: '/oauth2/callback',
      loginTimeoutSec: 300,
      openBrowser: true,
      assumedLifetimeSec: 300,
      httpTimeoutMs: 15000,
      tokenExpirySkewMs: 30000,
      opencode: { baseURL: BASE, syncIntervalMinutes: 60, nameOverrides: {}, responseApi: false, warmupTimeoutMs: 10000 },
    });
  });

  it('each flow gets the fields it reads, and only those', () => {
    const source = { type: 'env', var: 'SUBJECT' };
    expect(onlyProvider({ ...MINIMAL, authFlow: 'device_code' })).toMatchObject({ flow: 'device_code', pkce: true, openBrowser: true });
    expect(onlyProvider({ ...MINIMAL, authFlow: 'device_code' })).not.toHaveProperty('redirectPath');
    const machine = onlyProvider({ ...MINIMAL, authFlow: 'client_credentials', clientSecret: 's3cret' });
    for (const field of ['pkce', 'redirectPath', 'openBrowser', 'subjectTokenSource', 'subjectTokenType']) expect(machine).not.toHaveProperty(field);
    expect(onlyProvider({ ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: source })).not.toHaveProperty('subjectTokenType');
    expect(onlyProvider({ ...MINIMAL, authFlow: 'token_exchange', subjectTokenSource: source })).toMatchObject({
      flow: 'token_exchange',
      subjectTokenSource: { type: 'env', var: 'SUBJECT' },
      subjectTokenType: JWT_TOKEN_TYPE,
    });
    expect(onlyProvider({ ...MINIMAL, tokenEndpoint: 'https://idp.example/token', refreshWindow: { assumedLifetimeSec: 120 } })).toMatchObject({
      endpoints: { tokenEndpoint: 'https://idp.example/token' },
      assumedLifetimeSec: 120,
    });
  });

  it('runtime defaults, and OpenCode logLevel as the fallback level', () => {
    expect(parseOpenCodeConfig({}).runtime).toEqual({ cacheNamespace: 'tokens', httpTimeoutMs: 15000, tokenExpirySkewMs: 30000, logLevel: 'info' });
    expect(parseOpenCodeConfig({ logLevel: 'DEBUG' }).runtime.logLevel).toBe('debug');
    expect(parseOpenCodeConfig({ logLevel: 'WARN' }).runtime.logLevel).toBe('warn');
    expect(parseOpenCodeConfig({ logLevel: 'LOUD' }).runtime.logLevel).toBe('info');
    expect(parseOpenCodeConfig({ logLevel: 'ERROR', pluginConfig: { oauth2ModelSync: { logLevel: 'trace' } } }).runtime.logLevel).toBe('trace');
  });

  it('runtime values reach providers unless a provider overrides them; skew 0 is allowed', () => {
    const result = parseOpenCodeConfig(
      { provider: { a: { options: { baseURL: BASE, oauth2: MINIMAL } }, b: { options: { baseURL: BASE, oauth2: { ...MINIMAL, httpTimeoutMs: 2000, tokenExpirySkewMs: 0 } } } } },
      { pluginOptions: { httpTimeoutMs: 5000, tokenExpirySkewMs: 0, cacheNamespace: 'team-a' } },
    );
    expect(result.errors).toEqual([]);
    expect(result.runtime).toEqual({ cacheNamespace: 'team-a', httpTimeoutMs: 5000, tokenExpirySkewMs: 0, logLevel: 'info' });
    expect(result.providers.map((p) => [p.id, p.httpTimeoutMs, p.tokenExpirySkewMs])).toEqual([
      ['a', 5000, 0],
      ['b', 2000, 0],
    ]);
  });

  it('clientAuthMethod default follows the reference: post with a secret, else none; private_key_jwt with only a key', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' };
    expect(onlyProvider({ ...MINIMAL, clientSecret: 's3cret' }).client).toEqual({ method: 'client_secret_post', secret: 's3cret' });
    expect(onlyProvider(MINIMAL).client).toEqual({ method: 'none' });
    expect(onlyProvider({ ...MINIMAL, privateKey: jwk }).client).toEqual({ method: 'private_key_jwt', privateKey: { kind: 'jwk', jwk } });
    expect(onlyProvider({ ...MINIMAL, clientSecret: 's3cret', clientAuthMethod: 'client_secret_basic' }).client).toEqual({ method: 'client_secret_basic', secret: 's3cret' });
    expect(onlyProvider({ ...MINIMAL, authFlow: 'client_credentials', privateKey: { file: ' /keys/client.jwk ', kid: 'k1' } })).toMatchObject({
      client: { method: 'private_key_jwt', privateKey: { kind: 'file', path: '/keys/client.jwk', kid: 'k1' } },
    });
    expect(onlyProvider({ ...MINIMAL, privateKey: jwk, clientAssertionAudience: 'token_endpoint' }).client).toMatchObject({ audience: 'token_endpoint' });
    expect(onlyProvider({ ...MINIMAL, authFlow: 'client_credentials', clientAssertionSource: { type: 'env', var: 'FED' } }).client).toEqual({
      method: 'client_assertion',
      source: { type: 'env', var: 'FED' },
    });
  });

  it('scopes: a string splits on spaces and commas; duplicates go', () => {
    expect(onlyProvider({ ...MINIMAL, scopes: 'openid, profile  offline_access,openid' }).scopes).toEqual(['openid', 'profile', 'offline_access']);
    expect(onlyProvider({ ...MINIMAL, scopes: ['openid profile', 'openid'] }).scopes).toEqual(['openid', 'profile']);
  });

  it('numbers and booleans written as text (from {env:VAR}) are read', () => {
    expect(onlyProvider({ ...MINIMAL, redirectPort: '8765', syncIntervalMinutes: '0.5' })).toMatchObject({
      redirectPort: 8765,
      opencode: { syncIntervalMinutes: 0.5 },
    });
    expect(onlyProvider({ ...MINIMAL, authFlow: 'device_code', pkce: 'false' })).toMatchObject({ pkce: false });
  });

  it('trims ids and strings, drops trailing slashes of baseURL, keeps the issuer byte for byte', () => {
    const result = parseOpenCodeConfig({ provider: { ' corp ': { options: { baseURL: 'https://h/v1//', oauth2: { ...MINIMAL, issuer: 'https://idp/realm/', clientId: ' c ' } } } } });
    expect(result.providers[0]).toMatchObject({ id: 'corp', opencode: { baseURL: 'https://h/v1' }, issuer: 'https://idp/realm/', clientId: 'c' });
  });

  it('subject-token sources: kubernetes default path, command timeout, url field optional', () => {
    const k8s = onlyProvider({ ...MINIMAL, authFlow: 'token_exchange', subjectTokenSource: { type: 'kubernetes_sa' } });
    expect(k8s.subjectTokenSource).toEqual({ type: 'kubernetes_sa', tokenPath: DEFAULT_KUBERNETES_TOKEN_PATH });
    const command = onlyProvider({ ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'command', command: ['gcloud', 'auth', 'print-identity-token'] } });
    expect(command.subjectTokenSource).toEqual({ type: 'command', command: ['gcloud', 'auth', 'print-identity-token'], timeoutMs: 30000 });
    const url = onlyProvider({ ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'url', url: 'http://169.254.169.254/token', headers: { 'Metadata-Flavor': 'Google' } } });
    expect(url.subjectTokenSource).toEqual({ type: 'url', url: 'http://169.254.169.254/token', headers: { 'Metadata-Flavor': 'Google' } });
  });

  it('token exchange: tokenExchangeAudience is the alias of audience; actor token type defaults to JWT; resource becomes a list', () => {
    const base = { ...MINIMAL, authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'SUBJECT' } };
    expect(onlyProvider({ ...base, tokenExchangeAudience: 'gateway' }).audience).toBe('gateway');
    expect(onlyProvider({ ...base, audience: 'gateway', tokenExchangeAudience: 'gateway' }).audience).toBe('gateway');
    const withActor = onlyProvider({ ...base, actorTokenSource: { type: 'file', path: '/run/actor' }, resource: 'https://gw.example/' });
    expect(withActor).toMatchObject({ actorTokenSource: { type: 'file', path: '/run/actor' }, actorTokenType: JWT_TOKEN_TYPE, resource: ['https://gw.example/'] });
    expect(onlyProvider(base)).not.toHaveProperty('actorTokenType');
    expect(withActor).not.toHaveProperty('tokenExchangeAudience');
  });

  it('passthrough: true means Authorization: Bearer; other headers get no prefix unless given', () => {
    const source = { type: 'github_actions', audience: 'gateway' };
    const passthrough = onlyProvider({ passthrough: true, subjectTokenSource: source });
    expect(passthrough).toMatchObject({ flow: 'passthrough', header: 'authorization', prefix: 'Bearer ', subjectTokenSource: source });
    // No IdP: none of the OAuth fields exist to be misread.
    for (const field of ['issuer', 'clientId', 'client', 'scopes', 'endpoints']) expect(passthrough).not.toHaveProperty(field);
    expect(onlyProvider({ passthrough: { header: 'X-API-Key' }, subjectTokenSource: source })).toMatchObject({ header: 'x-api-key', prefix: '' });
    expect(onlyProvider({ passthrough: { header: 'x-token', prefix: 'Token ' }, subjectTokenSource: source })).toMatchObject({ header: 'x-token', prefix: 'Token ' });
    expect(onlyProvider({ ...MINIMAL, passthrough: false }).flow).toBe('authorization_code');
  });

  it('nameOverrides: non-string or empty values are dropped (with a warning), names trimmed', () => {
    const result = parseBlock({ ...MINIMAL, nameOverrides: { 'glm-5': ' GLM-5 ', bad: 3, empty: '' } });
    expect(result.providers[0]!.opencode.nameOverrides).toEqual({ 'glm-5': 'GLM-5' });
    expect(result.warnings.map((w) => w.message)).toEqual([
      'corp: nameOverrides["bad"] is dropped: a display name must be a non-empty string',
      'corp: nameOverrides["empty"] is dropped: a display name must be a non-empty string',
    ]);
  });

  it('enabled: false leaves the provider unmanaged without validating the rest', () => {
    const result = parseBlock({ enabled: false, redirectPort: 'broken' });
    expect(result).toMatchObject({ providers: [], errors: [], disabled: ['corp'] });
  });
});

describe('ProviderConfig type', () => {
  it('narrows on flow: each variant has exactly the fields its flow reads, typed without optional fallbacks', () => {
    const providers = parseBlock(MINIMAL).providers;
    const [provider] = providers;
    if (!provider) throw new Error('expected a provider');
    expectTypeOf(provider.flow).toEqualTypeOf<'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'token_exchange' | 'passthrough'>();
    expectTypeOf(provider.opencode.baseURL).toEqualTypeOf<string>();
    switch (provider.flow) {
      case 'passthrough':
        expectTypeOf(provider.header).toEqualTypeOf<string>();
        expectTypeOf(provider).not.toHaveProperty('issuer');
        break;
      case 'authorization_code':
        expectTypeOf(provider.issuer).toEqualTypeOf<string>();
        expectTypeOf(provider.clientId).toEqualTypeOf<string>();
        expectTypeOf(provider.redirectPath).toEqualTypeOf<string>();
        expectTypeOf(provider.loginTimeoutSec).toEqualTypeOf<number>();
        expectTypeOf(provider).not.toHaveProperty('pkce');
        expect(provider.issuer).toBe(ISSUER);
        break;
      case 'device_code':
        expectTypeOf(provider.pkce).toEqualTypeOf<boolean>();
        break;
      case 'token_exchange':
        expectTypeOf(provider.subjectTokenType).toEqualTypeOf<string>();
        break;
      default:
        expectTypeOf(provider).not.toHaveProperty('openBrowser');
    }
    expect(provider.flow).toBe('authorization_code');
  });

  it('the engine model has no OpenCode group to rely on', () => {
    const [engine] = parseEngineServers([{ id: 'svc', issuer: ISSUER, clientId: 'c', clientSecret: 's', scopes: 'api', authFlow: 'client_credentials' }]).providers;
    expectTypeOf(engine!).not.toHaveProperty('opencode');
    expect(engine).toMatchObject({ id: 'svc', flow: 'client_credentials', client: { method: 'client_secret_post', secret: 's' } });
  });
});

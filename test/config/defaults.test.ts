import { describe, expect, expectTypeOf, it } from 'vitest';
import { DEFAULT_KUBERNETES_TOKEN_PATH, JWT_TOKEN_TYPE, parseOpenCodeConfig } from '../../src/config/index.js';
import { BASE, ISSUER, MINIMAL, parseBlock } from './helpers.js';

function onlyProvider(block: unknown) {
  const result = parseBlock(block);
  expect(result.errors).toEqual([]);
  expect(result.providers).toHaveLength(1);
  return result.providers[0]!;
}

describe('defaults', () => {
  it('a minimal block gets every default of the reference and of the new fields', () => {
    expect(onlyProvider(MINIMAL)).toEqual({
      id: 'corp',
      name: 'corp',
      enabled: true,
      issuer: ISSUER,
      baseURL: BASE,
      allowInsecureHttp: false,
      clientId: 'opencode',
      scopes: ['openid', 'offline_access'],
      authFlow: 'authorization_code',
      pkce: true,
      clientAuthMethod: 'none',
      subjectTokenType: JWT_TOKEN_TYPE,
      redirectPath: '/oauth2/callback',
      loginTimeoutSec: 300,
      openBrowser: true,
      syncIntervalMinutes: 60,
      nameOverrides: {},
      responseApi: false,
      warmupTimeoutMs: 10000,
      refreshWindow: { assumedLifetimeSec: 300 },
      httpTimeoutMs: 15000,
      tokenExpirySkewMs: 30000,
      audience: undefined,
      actorTokenType: undefined,
      passthrough: undefined,
      source: 'provider.corp.options.oauth2',
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
    expect(onlyProvider({ ...MINIMAL, clientSecret: 's3cret' }).clientAuthMethod).toBe('client_secret_post');
    expect(onlyProvider(MINIMAL).clientAuthMethod).toBe('none');
    expect(onlyProvider({ ...MINIMAL, privateKey: jwk }).clientAuthMethod).toBe('private_key_jwt');
    expect(onlyProvider({ ...MINIMAL, privateKey: jwk }).privateKey).toEqual({ kind: 'jwk', jwk });
    expect(onlyProvider({ ...MINIMAL, clientSecret: 's3cret', clientAuthMethod: 'client_secret_basic' }).clientAuthMethod).toBe('client_secret_basic');
    expect(onlyProvider({ ...MINIMAL, authFlow: 'client_credentials', privateKey: { file: ' /keys/client.jwk ', kid: 'k1' } })).toMatchObject({
      clientAuthMethod: 'private_key_jwt',
      privateKey: { kind: 'file', path: '/keys/client.jwk', kid: 'k1' },
    });
  });

  it('scopes: a string splits on spaces and commas; duplicates go', () => {
    expect(onlyProvider({ ...MINIMAL, scopes: 'openid, profile  offline_access,openid' }).scopes).toEqual(['openid', 'profile', 'offline_access']);
    expect(onlyProvider({ ...MINIMAL, scopes: ['openid profile', 'openid'] }).scopes).toEqual(['openid', 'profile']);
  });

  it('numbers and booleans written as text (from {env:VAR}) are read', () => {
    expect(onlyProvider({ ...MINIMAL, redirectPort: '8765', pkce: 'false', syncIntervalMinutes: '0.5' })).toMatchObject({
      redirectPort: 8765,
      pkce: false,
      syncIntervalMinutes: 0.5,
    });
  });

  it('trims ids and strings, drops trailing slashes of baseURL, keeps the issuer byte for byte', () => {
    const result = parseOpenCodeConfig({ provider: { ' corp ': { options: { baseURL: 'https://h/v1//', oauth2: { ...MINIMAL, issuer: 'https://idp/realm/', clientId: ' c ' } } } } });
    expect(result.providers[0]).toMatchObject({ id: 'corp', baseURL: 'https://h/v1', issuer: 'https://idp/realm/', clientId: 'c' });
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
    expect(withActor).toMatchObject({ actorTokenType: JWT_TOKEN_TYPE, resource: ['https://gw.example/'] });
    expect(withActor).not.toHaveProperty('tokenExchangeAudience');
  });

  it('passthrough: true means Authorization: Bearer; other headers get no prefix unless given', () => {
    const source = { type: 'github_actions', audience: 'gateway' };
    expect(onlyProvider({ passthrough: true, subjectTokenSource: source })).toMatchObject({
      passthrough: { header: 'authorization', prefix: 'Bearer ' },
      scopes: [],
    });
    expect(onlyProvider({ passthrough: { header: 'X-API-Key' }, subjectTokenSource: source }).passthrough).toEqual({ header: 'x-api-key', prefix: '' });
    expect(onlyProvider({ passthrough: { header: 'x-token', prefix: 'Token ' }, subjectTokenSource: source }).passthrough).toEqual({ header: 'x-token', prefix: 'Token ' });
    expect(onlyProvider({ ...MINIMAL, passthrough: false }).passthrough).toBeUndefined();
  });

  it('nameOverrides: non-string or empty values are dropped (with a warning), names trimmed', () => {
    const result = parseBlock({ ...MINIMAL, nameOverrides: { 'glm-5': ' GLM-5 ', bad: 3, empty: '' } });
    expect(result.providers[0]!.nameOverrides).toEqual({ 'glm-5': 'GLM-5' });
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
  it('narrows on passthrough: OAuth providers always have issuer and clientId', () => {
    const [provider] = parseBlock(MINIMAL).providers;
    if (!provider) throw new Error('expected a provider');
    if (provider.passthrough === undefined) {
      expectTypeOf(provider.issuer).toEqualTypeOf<string>();
      expectTypeOf(provider.clientId).toEqualTypeOf<string>();
      expect(provider.issuer).toBe(ISSUER);
    } else {
      expectTypeOf(provider.passthrough.header).toEqualTypeOf<string>();
      expectTypeOf(provider.subjectTokenSource.type).toEqualTypeOf<'github_actions' | 'kubernetes_sa' | 'file' | 'env' | 'command' | 'url'>();
    }
    expectTypeOf(provider.scopes).toEqualTypeOf<string[]>();
    expectTypeOf(provider.authFlow).toEqualTypeOf<'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'token_exchange'>();
  });
});

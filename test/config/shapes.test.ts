import { describe, expect, it } from 'vitest';
import { parseOpenCodeConfig, type ProviderConfig } from '../../src/config/index.js';
import { BASE, ISSUER, MINIMAL } from './helpers.js';

const clientIdOf = (p: ProviderConfig) => ('clientId' in p ? p.clientId : undefined);
const server = (id: string, extra: Record<string, unknown> = {}) => ({ id, issuer: ISSUER, baseURL: BASE, clientId: 'c', scopes: 'openid', ...extra });

describe('shape A: provider.<id>.options.oauth2', () => {
  it('takes the id from the key, the name from provider.name, baseURL from provider.options', () => {
    const result = parseOpenCodeConfig({ provider: { corp: { name: 'Corp AI', options: { baseURL: BASE, oauth2: MINIMAL } } } });
    expect(result.providers[0]).toMatchObject({ id: 'corp', name: 'Corp AI', opencode: { baseURL: BASE }, source: 'provider.corp.options.oauth2' });
  });

  it('accepts the alias key oauth2ModelSync; with both, oauth2 is read and a warning says so', () => {
    const alias = parseOpenCodeConfig({ provider: { corp: { options: { baseURL: BASE, oauth2ModelSync: MINIMAL } } } });
    expect(alias.providers[0]).toMatchObject({ id: 'corp', source: 'provider.corp.options.oauth2ModelSync' });
    const both = parseOpenCodeConfig({ provider: { corp: { options: { baseURL: BASE, oauth2: MINIMAL, oauth2ModelSync: { ...MINIMAL, clientId: 'other' } } } } });
    expect(both.providers[0]).toMatchObject({ clientId: 'opencode', source: 'provider.corp.options.oauth2' });
    expect(both.warnings.map((w) => w.message)).toEqual(['corp: both options.oauth2 and options.oauth2ModelSync are set; only options.oauth2 is read']);
  });

  it('ignores providers without an oauth2 block (they are not ours)', () => {
    const result = parseOpenCodeConfig({ provider: { openai: { options: { apiKey: 'x' } }, local: { models: {} }, junk: 5 } });
    expect(result).toMatchObject({ providers: [], errors: [], warnings: [] });
  });
});

describe('shape B: pluginConfig.oauth2ModelSync.servers[]', () => {
  it('reads every server; name from an existing provider entry wins; baseURL falls back to it', () => {
    const result = parseOpenCodeConfig({
      provider: { two: { name: 'Two (provider)', options: { baseURL: 'https://two.example/v1' } } },
      pluginConfig: { oauth2ModelSync: { servers: [server('one', { name: 'One' }), { ...server('two', { name: 'Two (server)' }), baseURL: undefined }] } },
    });
    expect(result.errors).toEqual([]);
    expect(result.providers.map((p) => [p.id, p.name, p.opencode.baseURL, p.source])).toEqual([
      ['one', 'One', BASE, 'pluginConfig.oauth2ModelSync.servers[0]'],
      ['two', 'Two (provider)', 'https://two.example/v1', 'pluginConfig.oauth2ModelSync.servers[1]'],
    ]);
  });

  it('a duplicate id is an error on the later entry; the first is used', () => {
    const result = parseOpenCodeConfig({ pluginConfig: { oauth2ModelSync: { servers: [server('dup', { clientId: 'first' }), server('dup', { clientId: 'second' })] } } });
    expect(result.providers.map(clientIdOf)).toEqual(['first']);
    expect(result.errors.map((e) => e.message)).toEqual([
      'dup: is defined twice; pluginConfig.oauth2ModelSync.servers[0] is used and pluginConfig.oauth2ModelSync.servers[1] is ignored',
    ]);
  });

  it('plugin options (OpenCode tuple form) are read too and win over pluginConfig, for servers and runtime', () => {
    const result = parseOpenCodeConfig(
      { pluginConfig: { oauth2ModelSync: { httpTimeoutMs: 1000, tokenExpirySkewMs: 1000, servers: [server('x', { clientId: 'from-pluginConfig' }), server('y')] } } },
      { pluginOptions: { httpTimeoutMs: 2000, servers: [server('x', { clientId: 'from-options' })] } },
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual([
      'x: is defined in both plugin options.servers[0] and pluginConfig.oauth2ModelSync.servers[0]; the plugin options win and pluginConfig.oauth2ModelSync.servers[0] is ignored',
    ]);
    expect(result.runtime).toMatchObject({ httpTimeoutMs: 2000, tokenExpirySkewMs: 1000 });
    expect(result.providers.map((p) => [p.id, clientIdOf(p), p.source])).toEqual([
      ['x', 'from-options', 'plugin options.servers[0]'],
      ['y', 'c', 'pluginConfig.oauth2ModelSync.servers[1]'],
    ]);
  });
});

describe('both shapes', () => {
  it('shape A wins on an id clash, and the shadowed entry is reported', () => {
    const result = parseOpenCodeConfig({
      provider: { corp: { options: { baseURL: BASE, oauth2: { ...MINIMAL, clientId: 'from-provider' } } } },
      pluginConfig: { oauth2ModelSync: { servers: [server('corp', { clientId: 'from-servers' }), server('other')] } },
    });
    expect(result.providers.map((p) => [p.id, clientIdOf(p)])).toEqual([
      ['corp', 'from-provider'],
      ['other', 'c'],
    ]);
    expect(result.warnings.map((w) => w.message)).toEqual([
      'corp: is defined in both provider.corp.options.oauth2 and pluginConfig.oauth2ModelSync.servers[0]; the provider block wins and pluginConfig.oauth2ModelSync.servers[0] is ignored',
    ]);
  });

  it('shape A wins even when it is the broken one (no silent fallback to another definition)', () => {
    const result = parseOpenCodeConfig({
      provider: { corp: { options: { baseURL: BASE, oauth2: { ...MINIMAL, redirectPort: 0 } } } },
      pluginConfig: { oauth2ModelSync: { servers: [server('corp')] } },
    });
    expect(result.providers).toEqual([]);
    expect(result.errors.map((e) => e.message)).toEqual(['corp: redirectPort must be an integer in [1, 65535] (received 0)']);
  });

  it('one broken provider beside working ones: the others still parse', () => {
    const result = parseOpenCodeConfig({
      provider: {
        good: { options: { baseURL: BASE, oauth2: MINIMAL } },
        broken: { options: { baseURL: BASE, oauth2: { ...MINIMAL, authFlow: 'jwt_bearer' } } },
        nobase: { options: { oauth2: MINIMAL } },
      },
      pluginConfig: { oauth2ModelSync: { servers: [server('alsogood', { authFlow: 'device_code' }), server('alsobroken', { authFlow: 'client_credentials' })] } },
    });
    expect(result.providers.map((p) => p.id)).toEqual(['good', 'alsogood']);
    expect(result.errors.map((e) => [e.providerId, e.field])).toEqual([
      ['broken', 'subjectTokenSource'],
      ['nobase', 'baseURL'],
      ['alsobroken', 'clientSecret'],
    ]);
    expect(result.errors[1]!.message).toBe('nobase: baseURL is required (set provider.nobase.options.baseURL)');
  });

  it('never throws, whatever it is given', () => {
    const hostile = new Proxy({}, { get() { throw new Error('boom'); }, ownKeys() { throw new Error('boom'); } });
    const throwingGetter = { provider: { corp: { options: { baseURL: BASE, get oauth2() { throw new Error('boom'); } } } } };
    for (const input of [undefined, null, 0, 'x', [], { provider: [] }, { provider: 'x' }, { pluginConfig: 5 }, hostile, throwingGetter]) {
      const result = parseOpenCodeConfig(input);
      expect(result.providers).toEqual([]);
      expect(result.runtime.httpTimeoutMs).toBe(15000);
    }
    expect(parseOpenCodeConfig(throwingGetter).errors.map((e) => e.message)).toEqual(['config: could not be read (Error); no provider is managed']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenEndpointAdapter, discoveryUrls, resolveMetadata } from '../../src/adapters/http/index.js';
import { rejection } from './support/harness.js';
import { expectNoSecretsCollected } from './support/harness.js';
import { json, redirect, startScriptedServer, text, type ScriptedServer } from './support/scriptedServer.js';

let server: ScriptedServer;
let realm = 0;
/** A fresh issuer path per test, so scripts and caches never leak between tests. */
const nextIssuer = () => `${server.url}/realms/r${++realm}`;
const pathOf = (url: string) => new URL(url).pathname;

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
  expectNoSecretsCollected();
});

function metadataFor(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    token_endpoint: `${issuer}/protocol/openid-connect/token`,
    authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
    device_authorization_endpoint: `${issuer}/protocol/openid-connect/auth/device`,
    revocation_endpoint: `${issuer}/protocol/openid-connect/revoke`,
    jwks_uri: `${issuer}/protocol/openid-connect/certs`,
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    authorization_response_iss_parameter_supported: true,
    ...extra,
  };
}

function setup(now: () => number = () => 1_000) {
  const adapter = createTokenEndpointAdapter({ now, sleep: async () => {}, random: () => 0 });
  return adapter;
}

describe('discovery locations', () => {
  it('tries OIDC append, then RFC 8414 insert, then RFC 8414 append', () => {
    expect(discoveryUrls('https://idp.example/realms/corp/')).toEqual([
      'https://idp.example/realms/corp/.well-known/openid-configuration',
      'https://idp.example/.well-known/oauth-authorization-server/realms/corp',
      'https://idp.example/realms/corp/.well-known/oauth-authorization-server',
    ]);
    expect(discoveryUrls('https://idp.example')).toEqual([
      'https://idp.example/.well-known/openid-configuration',
      'https://idp.example/.well-known/oauth-authorization-server',
    ]);
  });
});

describe('discover', () => {
  it('reads the OIDC document and maps every field', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, metadataFor(issuer)));
    const metadata = await setup().discover(issuer, { providerId: 'corp' });
    expect(metadata).toEqual({
      issuer,
      tokenEndpoint: `${issuer}/protocol/openid-connect/token`,
      authorizationEndpoint: `${issuer}/protocol/openid-connect/auth`,
      deviceAuthorizationEndpoint: `${issuer}/protocol/openid-connect/auth/device`,
      revocationEndpoint: `${issuer}/protocol/openid-connect/revoke`,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
      codeChallengeMethodsSupported: ['plain', 'S256'],
      grantTypesSupported: ['authorization_code', 'refresh_token'],
      authorizationResponseIssParameterSupported: true,
    });
  });

  it('falls back to RFC 8414 (insert form) when OIDC discovery is 404', async () => {
    const issuer = nextIssuer();
    const [oidc, insert] = discoveryUrls(issuer);
    server.script(pathOf(insert!), json(200, { issuer, token_endpoint: `${issuer}/token` }));
    const metadata = await setup().discover(issuer, { providerId: 'corp' });
    expect(metadata).toEqual({ issuer, tokenEndpoint: `${issuer}/token` });
    expect(server.seen(pathOf(oidc!))).toHaveLength(1);
    expect(server.seen(pathOf(insert!))).toHaveLength(1);
  });

  it('skips a location answering an HTML page with 200 or a redirect, and uses the append form last', async () => {
    const issuer = nextIssuer();
    const [oidc, insert, append] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), text(200, '<html><title>Welcome</title></html>', 'text/html'));
    server.script(pathOf(insert!), redirect(301, 'https://elsewhere.example/'));
    server.script(pathOf(append!), json(200, { issuer, token_endpoint: `${issuer}/token` }));
    const metadata = await setup().discover(issuer, { providerId: 'corp' });
    expect(metadata.tokenEndpoint).toBe(`${issuer}/token`);
    expect(server.seen(pathOf(append!))).toHaveLength(1);
  });

  it('compares the issuer exactly: a trailing slash either way is another issuer (RFC 8414 §3.3)', async () => {
    for (const [configured, published] of [
      [nextIssuer(), (i: string) => `${i}/`],
      [`${nextIssuer()}/`, (i: string) => i.replace(/\/$/, '')],
    ] as const) {
      const [oidc] = discoveryUrls(configured);
      server.script(pathOf(oidc!), json(200, { issuer: published(configured), token_endpoint: `${configured}/token` }));
      const error = await rejection(setup().discover(configured, { providerId: 'corp' }));
      expect(error.code).toBe('protocol');
      expect(error.message).toContain(`names issuer "${published(configured)}", but the configured issuer is "${configured}"`);
    }
  });

  it('refuses a document for another issuer, naming both', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, metadataFor('https://evil.example/realms/corp')));
    const error = await rejection(setup().discover(issuer, { providerId: 'corp' }));
    expect(error.code).toBe('protocol');
    expect(error.message).toContain('names issuer "https://evil.example/realms/corp"');
    expect(error.message).toContain(`the configured issuer is "${issuer}"`);
  });

  it('names the field when token_endpoint is missing or not a URL', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, { issuer }), json(200, { issuer, token_endpoint: '/relative' }));
    const adapter = setup();
    expect((await rejection(adapter.discover(issuer, { providerId: 'corp' }))).message).toContain('"token_endpoint" is missing');
    expect((await rejection(adapter.discover(issuer, { providerId: 'corp' }))).message).toContain('"token_endpoint" must be an absolute http(s) URL');
  });

  it('stops with a transient error on a 503 instead of trying other locations', async () => {
    const issuer = nextIssuer();
    const [oidc, insert] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), text(503, 'down'));
    const error = await rejection(setup().discover(issuer, { providerId: 'corp' }));
    expect(error).toMatchObject({ code: 'transient', status: 503 });
    expect(server.seen(pathOf(oidc!))).toHaveLength(3);
    expect(server.seen(pathOf(insert!))).toHaveLength(0);
  });

  it('gives a config error listing what was tried when nothing is published', async () => {
    const issuer = nextIssuer();
    const error = await rejection(setup().discover(issuer, { providerId: 'corp' }));
    expect(error.code).toBe('config');
    expect(error.message).toContain('no authorization server metadata found');
    expect(error.message).toContain('openid-configuration → HTTP 404');
    expect(error.message).toContain('configure tokenEndpoint');
  });

  it('serves a cached document for an hour, then fetches again', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, metadataFor(issuer)));
    let clock = 1_000;
    const adapter = setup(() => clock);
    const burst = await Promise.all([1, 2, 3].map(() => adapter.discover(issuer, { providerId: 'corp' })));
    expect(burst.every((m) => m.tokenEndpoint === burst[0]!.tokenEndpoint)).toBe(true);
    clock += 59 * 60_000;
    await adapter.discover(issuer, { providerId: 'corp' });
    expect(server.seen(pathOf(oidc!))).toHaveLength(1);
    clock += 2 * 60_000;
    await adapter.discover(issuer, { providerId: 'corp' });
    expect(server.seen(pathOf(oidc!))).toHaveLength(2);
    adapter.forgetMetadata(issuer);
    await adapter.discover(issuer, { providerId: 'corp' });
    expect(server.seen(pathOf(oidc!))).toHaveLength(3);
  });
});

describe('resolveMetadata', () => {
  it('skips discovery entirely when every needed endpoint is configured', async () => {
    const issuer = nextIssuer();
    const before = server.requests.length;
    const metadata = await resolveMetadata(
      issuer,
      { tokenEndpoint: `${issuer}/t`, deviceAuthorizationEndpoint: `${issuer}/d` },
      setup(),
      { providerId: 'corp', needs: ['deviceAuthorizationEndpoint'] },
    );
    expect(metadata).toEqual({ issuer, tokenEndpoint: `${issuer}/t`, deviceAuthorizationEndpoint: `${issuer}/d` });
    expect(server.requests.length).toBe(before);
  });

  it('discovers what is missing and lets configured endpoints win field by field', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, metadataFor(issuer)));
    const metadata = await resolveMetadata(issuer, { tokenEndpoint: 'https://gateway.example/token', authorizationEndpoint: undefined }, setup(), {
      providerId: 'corp',
      needs: ['authorizationEndpoint'],
    });
    expect(metadata.tokenEndpoint).toBe('https://gateway.example/token');
    expect(metadata.authorizationEndpoint).toBe(`${issuer}/protocol/openid-connect/auth`);
  });

  it('names a needed endpoint that is neither configured nor published', async () => {
    const issuer = nextIssuer();
    const [oidc] = discoveryUrls(issuer);
    server.script(pathOf(oidc!), json(200, { issuer, token_endpoint: `${issuer}/token` }));
    const error = await rejection(resolveMetadata(issuer, {}, setup(), { providerId: 'corp', needs: ['deviceAuthorizationEndpoint'] }));
    expect(error.code).toBe('config');
    expect(error.message).toContain('"deviceAuthorizationEndpoint" is neither configured nor published');
  });
});

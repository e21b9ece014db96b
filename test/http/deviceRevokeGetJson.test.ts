import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenEndpointAdapter, devicePollRequest, getJson } from '../../src/adapters/http/index.js';
import type { ClientAuth } from '../../src/adapters/http/types.js';
import { capturingLogger, expectNoSecrets, recordingSleep, rejection, SECRETS } from './support/harness.js';
import { expectNoSecretsCollected } from './support/harness.js';
import { json, redirect, startScriptedServer, text, type ScriptedServer } from './support/scriptedServer.js';

let server: ScriptedServer;
let n = 0;
const nextPath = (name: string) => `/d${++n}/${name}`;

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
  expectNoSecretsCollected();
});

const clientAuth: ClientAuth = { method: 'client_secret_post', clientId: 'cli', clientSecret: SECRETS.clientSecret };

function setup() {
  const { logger, records } = capturingLogger();
  const sleep = recordingSleep();
  const adapter = createTokenEndpointAdapter({ logger, sleep: sleep.sleep, random: () => 0.5, now: () => 1_700_000_000_000, timeoutMs: 2_000 });
  return { adapter, records, sleeps: sleep.calls };
}

describe('device authorization (RFC 8628)', () => {
  it.each([
    ['javascript:', { verification_uri: 'javascript:alert(1)' }, 'verification_uri'],
    ['file:', { verification_uri: 'file:///etc/passwd' }, 'verification_uri'],
    ['plain http to another host', { verification_uri: 'http://idp.example/device' }, 'verification_uri'],
    ['a javascript: complete URI', { verification_uri: 'https://idp.example/device', verification_uri_complete: 'javascript:fetch(1)' }, 'verification_uri_complete'],
  ])('refuses %s as the verification URI before anything is shown or opened', async (_what, uris, field) => {
    const p = nextPath('device');
    server.script(p, json(200, { device_code: SECRETS.deviceCode, user_code: 'WDJB-MJHT', expires_in: 600, ...uris }));
    const { adapter } = setup();
    const error = await rejection(adapter.requestDeviceAuthorization({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, params: {} }));
    // Before (661bc6b): accepted, shown to the user and handed to the browser opener.
    expect(error).toMatchObject({ code: 'protocol', providerId: 'corp' });
    expect(error.message).toContain(`"${field}" must be an https URL (http only on a loopback host)`);
    expect(error.message).not.toContain(SECRETS.deviceCode);
  });

  it('takes http on a loopback host (labs, local IdPs)', async () => {
    const p = nextPath('device');
    server.script(p, json(200, { device_code: SECRETS.deviceCode, user_code: 'U', verification_uri: 'http://127.0.0.1:8080/device', verification_uri_complete: 'http://localhost:8080/device?user_code=U', expires_in: 600 }));
    const { adapter } = setup();
    const started = await adapter.requestDeviceAuthorization({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, params: {} });
    expect(started.verificationUriComplete).toBe('http://localhost:8080/device?user_code=U');
  });

  it('sends every resource as its own parameter (RFC 8707 §2)', async () => {
    const p = nextPath('device');
    server.script(p, json(200, { device_code: SECRETS.deviceCode, user_code: 'U', verification_uri: 'https://idp.example/device', expires_in: 600 }));
    const { adapter } = setup();
    await adapter.requestDeviceAuthorization({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, params: { resource: ['https://a.example/', 'https://b.example/'] } });
    expect(server.seen(p)[0]!.form.getAll('resource')).toEqual(['https://a.example/', 'https://b.example/']);
  });

  it('reads the response, accepting verification_url and rounding the interval up', async () => {
    const p = nextPath('device');
    server.script(p, json(200, { device_code: SECRETS.deviceCode, user_code: 'WDJB-MJHT', verification_url: 'https://idp.example/device', expires_in: '1800', interval: 4.2 }));
    const { adapter, records } = setup();
    const started = await adapter.requestDeviceAuthorization({
      providerId: 'corp',
      endpoint: `${server.url}${p}`,
      clientAuth,
      params: { scope: 'openid offline_access', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
    });
    expect(started).toEqual({ deviceCode: SECRETS.deviceCode, userCode: 'WDJB-MJHT', verificationUri: 'https://idp.example/device', expiresIn: 1800, interval: 5 });
    const [seen] = server.seen(p);
    expect(seen!.form.get('client_id')).toBe('cli');
    expect(seen!.form.get('code_challenge_method')).toBe('S256');
    expectNoSecrets([records]);
  });

  it('names a missing field', async () => {
    const p = nextPath('device');
    server.script(p, json(200, { device_code: SECRETS.deviceCode, user_code: 'A', verification_uri: 'https://idp.example/device' }));
    const { adapter } = setup();
    const error = await rejection(adapter.requestDeviceAuthorization({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, params: {} }));
    expect(error.code).toBe('protocol');
    expect(error.message).toContain('device authorization response "expires_in" must be a positive number of seconds');
    expectNoSecrets([error.message]);
  });

  it('classifies polls: pending, slow_down with the server interval, token; expired and denied are errors', async () => {
    const p = nextPath('token');
    server.script(
      p,
      json(400, { error: 'authorization_pending' }),
      text(200, 'error=slow_down&error_description=Too+many+requests&interval=10', 'application/x-www-form-urlencoded'),
      json(400, { error: 'slow_down' }),
      json(200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.newRefreshToken, expires_in: 300 }),
      json(400, { error: 'expired_token', error_description: 'device code expired' }),
      json(403, { error: 'access_denied' }),
    );
    const { adapter, records } = setup();
    const poll = () =>
      adapter.pollDeviceToken(
        devicePollRequest({ providerId: 'corp', tokenEndpoint: `${server.url}${p}`, clientAuth, params: { code_verifier: SECRETS.codeVerifier }, deviceCode: SECRETS.deviceCode }),
      );
    expect(await poll()).toEqual({ kind: 'pending' });
    expect(await poll()).toEqual({ kind: 'slow_down', intervalSec: 10 });
    expect(await poll()).toEqual({ kind: 'slow_down' });
    const done = await poll();
    expect(done.kind === 'token' && done.token.refreshToken).toBe(SECRETS.newRefreshToken);
    const expired = await rejection(poll());
    expect(expired).toMatchObject({ code: 'expired_token', oauthError: 'expired_token' });
    expect(expired.message).toContain('start the login again');
    const denied = await rejection(poll());
    expect(denied).toMatchObject({ code: 'access_denied', status: 403 });
    const seen = server.seen(p);
    expect(seen[0]!.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:device_code');
    expect(seen[0]!.form.get('device_code')).toBe(SECRETS.deviceCode);
    // Pending polls are progress, not failures: no warning per poll.
    expect(records.filter((r) => r.level === 'warn' && r.fields.oauthError === 'authorization_pending')).toHaveLength(0);
    expectNoSecrets([expired.message, denied.message, records]);
  });
});

describe('revocation (RFC 7009)', () => {
  it('posts the token with its hint and client auth, retrying a 503', async () => {
    const p = nextPath('revoke');
    server.script(p, text(503, 'busy'), text(200, ''));
    const { adapter, sleeps } = setup();
    await adapter.revoke({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, token: SECRETS.refreshToken, tokenTypeHint: 'refresh_token' });
    const seen = server.seen(p);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.form.get('token')).toBe(SECRETS.refreshToken);
    expect(seen[1]!.form.get('token_type_hint')).toBe('refresh_token');
    expect(seen[1]!.form.get('client_secret')).toBe(SECRETS.clientSecret);
    expect(sleeps).toEqual([125]);
  });

  it('reports unsupported_token_type with the token scrubbed from the description', async () => {
    const p = nextPath('revoke');
    server.script(p, json(400, { error: 'unsupported_token_type', error_description: `cannot revoke ${SECRETS.accessToken}` }));
    const { adapter, records } = setup();
    const error = await rejection(adapter.revoke({ providerId: 'corp', endpoint: `${server.url}${p}`, clientAuth, token: SECRETS.accessToken, tokenTypeHint: 'access_token' }));
    expect(error).toMatchObject({ code: 'invalid_request', oauthError: 'unsupported_token_type' });
    expect(error.message).toContain('cannot revoke [redacted]');
    expectNoSecrets([error.message, records]);
  });
});

describe('getJson', () => {
  const ghaToken = 'ghs_RequestToken0123456789abcdefABCDEF';

  it('GETs JSON with the given headers (GitHub Actions OIDC style)', async () => {
    const p = nextPath('oidc');
    server.script(p, json(200, { value: SECRETS.assertion }));
    const body = await getJson(`${server.url}${p}?api-version=2.0&audience=gateway`, { providerId: 'ci', headers: { authorization: `bearer ${ghaToken}` }, what: 'GitHub Actions OIDC token endpoint' }, { sleep: async () => {} });
    expect(body).toEqual({ value: SECRETS.assertion });
    expect(server.seen(p)[0]!.headers.authorization).toBe(`bearer ${ghaToken}`);
  });

  it('fails with the caller\'s code and fix on 403, scrubbing the echoed request token', async () => {
    const p = nextPath('oidc');
    server.script(p, json(403, { message: `token ${ghaToken} lacks id-token: write` }));
    const { adapter, records } = setup();
    const error = await rejection(
      adapter.getJson(`${server.url}${p}`, {
        providerId: 'ci',
        headers: { authorization: `bearer ${ghaToken}` },
        what: 'GitHub Actions OIDC token endpoint',
        failureCode: 'subject_token',
        fix: 'add `permissions: id-token: write` to the job',
      }),
    );
    expect(error).toMatchObject({ code: 'subject_token', status: 403 });
    expect(error.message).toContain('GitHub Actions OIDC token endpoint');
    expect(error.message).toContain('id-token: write');
    expectNoSecrets([error.message, records], [ghaToken]);
  });

  it('retries 502 then reports transient; refuses non-JSON and redirects', async () => {
    const bad = nextPath('models');
    const html = nextPath('models');
    const moved = nextPath('models');
    server.script(bad, text(502, '<html><title>502 Bad Gateway</title></html>', 'text/html'));
    server.script(html, text(200, '<html><title>Login</title></html>', 'text/html'));
    server.script(moved, redirect(307, '/login'));
    const { adapter, sleeps } = setup();
    const gateway = await rejection(adapter.getJson(`${server.url}${bad}`, { providerId: 'corp', what: 'models endpoint' }));
    expect(gateway).toMatchObject({ code: 'transient', status: 502 });
    expect(gateway.message).toContain('(text/html: 502 Bad Gateway)');
    expect(sleeps).toHaveLength(2);
    const notJson = await rejection(adapter.getJson(`${server.url}${html}`, { providerId: 'corp', what: 'models endpoint' }));
    expect(notJson.code).toBe('protocol');
    expect(notJson.message).toContain('not JSON (text/html: Login)');
    const redirected = await rejection(adapter.getJson(`${server.url}${moved}`, { providerId: 'corp', what: 'models endpoint' }));
    expect(redirected).toMatchObject({ code: 'protocol', status: 307 });
    expect(server.seen('/login')).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { TokenEndpointAdapter } from '../../src/adapters/http/types.js';
import { TokenError } from '../../src/errors.js';
import { credentialHeaders, runFlow, tokenErrorFromInfo, type FlowConfig, type FlowNotice } from '../../src/flows/index.js';
import { flowConfig } from './labSupport.js';

/** An adapter that must not be reached: these tests stay before any HTTP. */
const unreachable: TokenEndpointAdapter = {
  discover: () => Promise.reject(new Error('discover must not be called')),
  requestToken: () => Promise.reject(new Error('requestToken must not be called')),
  requestDeviceAuthorization: () => Promise.reject(new Error('requestDeviceAuthorization must not be called')),
  revoke: () => Promise.reject(new Error('revoke must not be called')),
};

const authCode = (notify: (n: FlowNotice) => void, over: Record<string, unknown> = {}): FlowConfig =>
  flowConfig(
    {
      id: 'p',
      flow: 'authorization_code',
      issuer: 'https://idp.invalid',
      clientAuth: { method: 'none', clientId: 'cli' },
      scopes: ['openid'],
      // Both endpoints configured: no discovery request at all.
      endpoints: { tokenEndpoint: 'https://idp.invalid/token', authorizationEndpoint: 'https://idp.invalid/authorize' },
      openBrowser: false,
      ...over,
    },
    notify,
  ).config;

describe('flow runners', () => {
  it('aborting a login rejects it and closes the loopback server', async () => {
    const abort = new AbortController();
    let redirectUri = '';
    const running = runFlow(
      authCode((n) => {
        if (n.kind === 'info') {
          redirectUri = /on (http:\/\/\S+) until/.exec(n.text)![1]!;
          setTimeout(() => abort.abort(), 10);
        }
      }),
      { http: unreachable },
      abort.signal,
    );
    await expect(running).rejects.toMatchObject({ code: 'transient', message: '[p] the acquisition was cancelled' });
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2\/callback$/);
    await new Promise((r) => setTimeout(r, 20));
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('the URL shown carries the configured extras and omits prompt unless configured', async () => {
    const abort = new AbortController();
    let url = '';
    const config = authCode(
      (n) => {
        if (n.kind === 'browser') {
          url = n.url!;
          abort.abort();
        }
      },
      { authorizationParams: { login_hint: 'alice@example.com' }, resource: ['https://api.example'], audience: 'gateway', redirectPath: '/cb' },
    );
    await runFlow(config, { http: unreachable }, abort.signal).catch(() => undefined);
    const q = new URL(url).searchParams;
    expect(Object.fromEntries(q)).toMatchObject({
      response_type: 'code',
      client_id: 'cli',
      scope: 'openid',
      code_challenge_method: 'S256',
      login_hint: 'alice@example.com',
      resource: 'https://api.example',
      audience: 'gateway',
    });
    expect(q.get('redirect_uri')).toMatch(/\/cb$/);
    expect(q.has('prompt')).toBe(false);
    expect(q.get('state')).not.toBe(q.get('code_challenge'));
  });

  it('a machine flow without a subject source fails with a config error', async () => {
    // The type requires a source for jwt_bearer; an embedder's untyped config is still checked at run time.
    const { config } = flowConfig({
      id: 'ci',
      flow: 'jwt_bearer',
      issuer: 'https://idp.invalid',
      clientAuth: { method: 'none', clientId: 'c' },
      endpoints: { tokenEndpoint: 'https://idp.invalid/token' },
      interactive: false,
    });
    const error = await runFlow(config, { http: unreachable }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'config', message: expect.stringContaining('jwt_bearer needs a subjectTokenSource') });
  });

  it('tokenErrorFromInfo keeps the message without doubling prefix or fix', () => {
    const original = new TokenError({ code: 'access_denied', providerId: 'p', message: 'denied', fix: 'approve it', oauthError: 'access_denied', status: 400 });
    const back = tokenErrorFromInfo(original.toJSON());
    expect(back.message).toBe(original.message);
    expect(back.toJSON()).toEqual(original.toJSON());
  });

  it('credentialHeaders: Authorization by default, the named header for passthrough credentials', () => {
    expect(credentialHeaders({ accessToken: 't', tokenType: 'Bearer' })).toEqual({ authorization: 'Bearer t' });
    expect(credentialHeaders({ accessToken: 't', tokenType: 'x-api-key', credentialHeader: { name: 'x-api-key', prefix: '' } })).toEqual({ 'x-api-key': 't' });
    expect(credentialHeaders({ accessToken: 't', tokenType: 'Token', credentialHeader: { name: 'authorization', prefix: 'Token ' } })).toEqual({ authorization: 'Token t' });
  });
});

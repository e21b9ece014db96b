/**
 * User flows end to end against the lab's real oidc-provider: the browser is lab/browser.mjs through
 * BROWSER, or the test itself acting on what the flow showed the user.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT, startIdp, type Idp } from '../../lab/index.mjs';
import { runFlow, type FlowNotice } from '../../src/flows/index.js';
import { expectNoSecrets, flowConfig, realDeps, rejectionOf } from './labSupport.js';

let idp: Idp;
const browserEnv = () => ({ BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });

beforeAll(async () => {
  // Keycloak-like: PKCE required on the device request too; a 1 s interval keeps device tests short.
  idp = await startIdp({ deviceInterval: 1, requireDevicePkce: true });
});
afterAll(() => idp.stop());
beforeEach(() => {
  idp.clearFaults();
  idp.resetCounters();
});

const native = () => ({ method: 'none' as const, clientId: idp.clients.native.client_id });
const userScopes = ['openid', 'offline_access', 'api:read'];

describe('authorization_code + PKCE against the lab IdP', () => {
  it('logs in through BROWSER=lab/browser.mjs: token with a refresh token, and the loopback is closed after', async () => {
    const { config, notices } = flowConfig({ id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes });
    const token = await runFlow(config, realDeps(browserEnv()));
    expect(token.tokenType).toBe('Bearer');
    expect(token.refreshToken).toBeTruthy();
    expect(token.expiresAt).toBeGreaterThan(token.issuedAt);
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
    // The user is told what we wait for and until when; with a browser opening, the URL is not shown.
    const info = notices.find((n) => n.kind === 'info')!;
    expect(info.text).toMatch(/^Log in to lab in the browser; waiting for the answer on http:\/\/127\.0\.0\.1:\d+\/oauth2\/callback until /);
    expect(info.expiresAt).toBeGreaterThan(Date.now());
    expect(notices.some((n) => n.kind === 'browser')).toBe(false);
    const redirectUri = /on (http:\/\/\S+) until/.exec(info.text)![1]!;
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('without a browser it shows the URL (S256, state, no verifier), ignores stray hits, and the user finishing it completes the flow', async () => {
    let shown: FlowNotice | undefined;
    const logs: { event: string; fields?: Record<string, unknown> }[] = [];
    const record = (event: string, fields?: Record<string, unknown>) => void logs.push({ event, ...(fields ? { fields } : {}) });
    const { config } = flowConfig(
      { id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes, openBrowser: false, redirectPath: '/callback' },
      (n) => {
        if (n.kind !== 'browser') return;
        shown = n;
        const redirect = new URL(n.url!).searchParams.get('redirect_uri')!;
        // A favicon fetch and a forged callback first: both are ignored, then the real login lands.
        void fetch(new URL('/favicon.ico', redirect))
          .then(() => fetch(`${redirect}?code=forged&state=not-the-state`))
          .then(() => idp.browserLogin(n.url!, { loginHint: 'bob' }));
      },
    );
    const token = await runFlow(config, { ...realDeps(), logger: { debug: record, info: record, warn: record, error: record } });
    const q = new URL(shown!.url!).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{32}$/);
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(q.has('code_verifier')).toBe(false);
    expect(q.has('prompt')).toBe(false);
    expect((await idp.introspect(token.accessToken)).sub).toBe('bob');
    expect(logs.filter((l) => l.event === 'oauth_callback_stray').map((l) => l.fields?.reason)).toEqual(['wrong_path', 'state_mismatch']);
    const logText = JSON.stringify(logs);
    for (const secret of [q.get('state')!, q.get('code_challenge')!, token.accessToken, token.refreshToken!]) expect(logText).not.toContain(secret);
  });

  it('a browser that cannot open falls back to showing the URL', async () => {
    let shown = false;
    const { config } = flowConfig({ id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes }, (n) => {
      if (n.kind === 'browser') {
        shown = true;
        void idp.browserLogin(n.url!);
      }
    });
    const token = await runFlow(config, realDeps({ BROWSER: '/nonexistent/browser' }));
    expect(shown).toBe(true);
    expect(token.refreshToken).toBeTruthy();
  });

  it('the IdP refusing ends the flow with access_denied naming the IdP error', async () => {
    const { config } = flowConfig({ id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes });
    const error = await rejectionOf(runFlow(config, realDeps({ ...browserEnv(), LAB_BROWSER_DENY: '1' })));
    expect(error).toMatchObject({ code: 'access_denied', providerId: 'lab', oauthError: 'access_denied' });
    expect(error.message).toContain('the IdP ended the login with access_denied');
  });

  it('a token without a refresh token is refused (strict policy) with the fix, and no secret in the error', async () => {
    idp.fault({ fault: 'drop_refresh_token', grantType: 'authorization_code' });
    const { config } = flowConfig({ id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes });
    const error = await rejectionOf(runFlow(config, realDeps(browserEnv())));
    expect(error).toMatchObject({ code: 'no_refresh_token', providerId: 'lab' });
    expect(error.message).toBe(
      '[lab] the IdP issued no refresh token — request offline_access or enable refresh tokens for this client',
    );
    expectNoSecrets(error, []);
  });

  it('nobody logs in: the deadline ends the flow and closes the loopback', async () => {
    let redirectUri = '';
    const { config } = flowConfig(
      { id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes, openBrowser: false, loginTimeoutSec: 1 },
      (n) => {
        if (n.kind === 'info') redirectUri = /on (http:\/\/\S+) until/.exec(n.text)![1]!;
      },
    );
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'timeout' });
    // No request ever reached the loopback: the message names the likely cause, the registered redirect URI
    // (before, 661bc6b: only "no login callback arrived within 1 s … raise loginTimeoutSec").
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2\/callback$/);
    expect(error.message).toContain(`no redirect reached ${redirectUri} within 1 s`);
    expect(error.message).toContain(`register exactly ${redirectUri} at the IdP`);
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it('non-interactive: interaction_required before any request', async () => {
    const { config, notices } = flowConfig({ id: 'lab', flow: 'authorization_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes, interactive: false });
    const error = await rejectionOf(runFlow(config, realDeps(browserEnv())));
    expect(error).toMatchObject({ code: 'interaction_required' });
    expect(notices).toEqual([]);
    expect(idp.counters.authorization).toBe(0);
  });
});

describe('device_code against the lab IdP', () => {
  const deviceConfig = (over: Record<string, unknown> = {}, onNotice?: (n: FlowNotice) => void) =>
    flowConfig({ id: 'lab', flow: 'device_code', issuer: idp.issuer, clientAuth: native(), scopes: userScopes, openBrowser: false, ...over }, onNotice);

  it('shows the user code; approved through the IdP pages; PKCE sent (the IdP requires it)', async () => {
    const { config, notices } = deviceConfig({}, (n) => {
      if (n.kind === 'device_code') void idp.approveDevice(n.url!);
    });
    const token = await runFlow(config, realDeps());
    expect(token.refreshToken).toBeTruthy();
    const shown = notices.find((n) => n.kind === 'device_code')!;
    expect(shown.userCode).toBeTruthy();
    expect(shown.text).toContain(shown.userCode!);
    expect(shown.url).toContain('/device');
    expect(idp.grantCount('device_code').successes).toBe(1);
  });

  it('opens verification_uri_complete in the browser when one can open (lab/browser.mjs approves)', async () => {
    const { config } = deviceConfig({ openBrowser: true });
    const token = await runFlow(config, realDeps(browserEnv()));
    expect((await idp.introspect(token.accessToken)).active).toBe(true);
  });

  it('slow_down: polls slower (the server sent a new interval) and still completes', async () => {
    idp.fault({ fault: 'slow_down', grantType: 'device_code', interval: 2 });
    const { config } = deviceConfig({}, (n) => {
      if (n.kind === 'device_code') setTimeout(() => void idp.approveDevice(n.url!), 500);
    });
    const token = await runFlow(config, realDeps());
    expect(token.refreshToken).toBeTruthy();
    expect(idp.grantCount('device_code').faults).toBe(1);
  });

  it('expired_token ends the flow with a clear error', async () => {
    idp.fault({ fault: 'expired_token', grantType: 'device_code' });
    const { config } = deviceConfig();
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'expired_token', oauthError: 'expired_token' });
    expect(error.message).toContain('the device code expired before the login was approved');
  });

  it('the user denying ends the flow with access_denied', async () => {
    const { config } = deviceConfig({}, (n) => {
      if (n.kind === 'device_code') void idp.approveDevice(n.url!, { deny: true });
    });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'access_denied' });
  });

  it('a device token without a refresh token is refused', async () => {
    idp.fault({ fault: 'drop_refresh_token', grantType: 'device_code' });
    const { config } = deviceConfig({}, (n) => {
      if (n.kind === 'device_code') void idp.approveDevice(n.url!);
    });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'no_refresh_token' });
  });

  it('pkce: false against an IdP that requires it: the device request is refused with the IdP error', async () => {
    const { config } = deviceConfig({ pkce: false });
    const error = await rejectionOf(runFlow(config, realDeps()));
    expect(error).toMatchObject({ code: 'invalid_request' });
  });
});

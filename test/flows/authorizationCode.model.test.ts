import { expect } from 'vitest';
import { authorizationCodeMachine, type AuthorizationCodeInput } from '../../src/machines/authorizationCode.js';
import { errorInfo, ISSUER, metadata, metadataTokenOnly, pkce, token } from './fixtures.js';
import { describeModel } from '../support/modelTesting.js';

const base: AuthorizationCodeInput = {
  providerId: 'p',
  clientId: 'cli',
  scopes: ['openid', 'offline_access'],
  interactive: true,
  openBrowser: true,
  loginTimeoutSec: 120,
  redirectPath: '/oauth2/callback',
  prompt: 'consent',
  resource: ['https://api.example'],
};

describeModel({
  name: 'authorizationCode',
  machine: authorizationCodeMachine,
  variants: {
    browser: base,
    urlShownInstead: { ...base, openBrowser: false, redirectPort: 8765 },
    nonInteractive: { ...base, interactive: false },
  },
  fakes: { discoverEndpoints: 'promise', generatePkce: 'promise', loopback: 'callback', openBrowser: 'promise', exchangeCode: 'promise' },
  payloads: {
    'xstate.done.actor.discover': [{ output: metadata }, { output: metadataTokenOnly }],
    'xstate.error.actor.discover': [{ error: errorInfo('transient') }],
    'xstate.done.actor.pkce': [{ output: pkce }],
    'xstate.error.actor.pkce': [{ error: new Error('entropy source failed') }],
    'LOOPBACK.READY': [{ redirectUri: 'http://127.0.0.1:43123/oauth2/callback' }],
    'LOOPBACK.FAILED': [{ error: errorInfo('config', { message: '[p] loopback port 8765 on 127.0.0.1 is already in use' }) }],
    CALLBACK: [
      { result: { kind: 'code', code: 'CODE-secret', iss: ISSUER } },
      { result: { kind: 'idp_error', error: 'access_denied', errorDescription: 'The user cancelled' } },
      { result: { kind: 'issuer_mismatch', received: 'https://evil.example' } },
      { result: { kind: 'stray', reason: 'state_mismatch' } },
    ],
    'xstate.done.actor.browser': [{ output: undefined }],
    'xstate.error.actor.browser': [{ error: errorInfo('config', { message: '[p] could not open a browser' }) }],
    'xstate.done.actor.exchange': [
      { output: token({ refreshToken: 'RT-secret' }) },
      { output: token() }, // no refresh token: refused by policy
    ],
    'xstate.error.actor.exchange': [{ error: errorInfo('invalid_grant', { oauthError: 'invalid_grant' }) }, { error: errorInfo('uncertain') }],
  },
  check: (snap, { fakes }) => {
    // The loopback server lives exactly as long as the `login` state.
    expect(fakes.running('loopback')).toBe(snap.status === 'active' && snap.matches('login') ? 1 : 0);
    const url = snap.context.authorizationUrl as string | null;
    if (url) {
      expect(url).not.toContain(pkce.verifier);
      const q = new URL(url).searchParams;
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('state')).toBe(pkce.state);
      expect(q.get('tenant')).toBe('t1');
    }
    if (snap.status === 'done' && snap.output.status === 'failed') {
      const text = JSON.stringify(snap.output.error);
      for (const secret of [pkce.verifier, pkce.state, 'CODE-secret', 'AT-secret', 'RT-secret']) expect(text).not.toContain(secret);
    }
  },
});

import { expect } from 'vitest';
import type { DeviceAuthorization } from '../../src/adapters/http/types.js';
import { deviceCodeMachine, type DeviceCodeInput } from '../../src/machines/deviceCode.js';
import { errorInfo, metadata, metadataTokenOnly, pkce, token } from './fixtures.js';
import { describeModel } from '../support/modelTesting.js';

const base: DeviceCodeInput = { providerId: 'p', scopes: ['openid', 'offline_access'], interactive: true, usePkce: true, openBrowser: true };

const withPage: DeviceAuthorization = {
  deviceCode: 'DEVICE-secret',
  userCode: 'ABCD-EFGH',
  verificationUri: 'https://idp.example/device',
  verificationUriComplete: 'https://idp.example/device?user_code=ABCD-EFGH',
  expiresIn: 600,
  interval: 7,
};
// No complete URI, and an interval that is not a number: the default 5 s applies.
const codeOnly: DeviceAuthorization = { deviceCode: 'DEVICE-secret', userCode: 'WXYZ-1234', verificationUri: 'https://idp.example/device', expiresIn: 900, interval: Number.NaN };

// Longer than a timer can wait (2^31-1 ms): the deadline is re-armed once before it expires.
const thirtyDays: DeviceAuthorization = { ...codeOnly, expiresIn: 30 * 86_400, interval: 5 };

const pollError = (oauthError: string, extra = {}) => ({ error: errorInfo('invalid_request', { oauthError, status: 400, ...extra }) });

describeModel({
  name: 'deviceCode',
  machine: deviceCodeMachine,
  variants: {
    pkceAndBrowser: base,
    noPkceNoBrowser: { ...base, usePkce: false, openBrowser: false },
    nonInteractive: { ...base, interactive: false },
  },
  fakes: {
    discoverEndpoints: 'promise',
    generatePkce: 'promise',
    requestDeviceAuthorization: 'promise',
    openBrowser: 'promise',
    pollToken: 'promise',
  },
  // Interval and backoff grow without bound under slow_down and network failures: explore one step of
  // each (the growth rules and caps have their own tests in deviceCode.timing.test.ts).
  // After the 30-day deadline is re-armed the fake clock stands 24.8 days on, past every pending poll
  // timer: explore nothing further (the re-armed deadline has its own real-timer test in deviceCode.timing.test.ts).
  eventFilter: (s, e) =>
    !(s.context.authorization && s.context.expiryLeftMs < s.context.authorization.expiresIn * 1000) &&
    !(e.type === 'xstate.error.actor.poll' && e.error?.oauthError === 'slow_down' && s.context.intervalSec >= 10) &&
    !(e.type === 'xstate.error.actor.poll' && (e.error?.code === 'transient' || e.error?.code === 'uncertain') && s.context.backoffSec >= 5),
  payloads: {
    'xstate.done.actor.discover': [{ output: metadata }, { output: metadataTokenOnly }],
    'xstate.error.actor.discover': [{ error: errorInfo('transient') }],
    'xstate.done.actor.pkce': [{ output: pkce }],
    'xstate.error.actor.pkce': [{ error: new Error('entropy source failed') }],
    'xstate.done.actor.deviceAuthorization': [{ output: withPage }, { output: codeOnly }, { output: thirtyDays }],
    'xstate.error.actor.deviceAuthorization': [{ error: errorInfo('invalid_client', { oauthError: 'invalid_client', status: 401 }) }],
    'xstate.done.actor.browser': [{ output: undefined }],
    'xstate.error.actor.browser': [{ error: errorInfo('config', { message: '[p] could not open a browser' }) }],
    'xstate.done.actor.poll': [{ output: token({ refreshToken: 'RT-secret' }) }, { output: token() }],
    'xstate.error.actor.poll': [
      pollError('authorization_pending'),
      pollError('slow_down'),
      pollError('slow_down', { intervalSec: 30 }),
      { error: errorInfo('transient', { notSent: true }) },
      { error: errorInfo('uncertain') },
      pollError('expired_token'),
      pollError('access_denied'),
      { error: errorInfo('invalid_grant', { oauthError: 'invalid_grant', status: 400 }) },
    ],
  },
  check: (snap, { fakes }) => {
    const ctx = snap.context;
    // The interval never drops below what the server asked for, and never below 5 s.
    expect(ctx.intervalSec).toBeGreaterThanOrEqual(5);
    expect(ctx.intervalSec + ctx.backoffSec).toBeLessThanOrEqual(Math.max(60, ctx.intervalSec));
    for (const input of (fakes.inputs.get('deviceAuthorization') ?? []) as { params: Record<string, string | undefined> }[]) {
      expect(input.params.code_challenge_method).toBe(ctx.usePkce ? 'S256' : undefined);
      expect(JSON.stringify(input)).not.toContain(pkce.verifier);
    }
    for (const input of (fakes.inputs.get('poll') ?? []) as { params: Record<string, string | undefined> }[]) {
      expect(input.params.code_verifier).toBe(ctx.usePkce ? pkce.verifier : undefined);
    }
    if (snap.status === 'done' && snap.output.status === 'failed') {
      const text = JSON.stringify(snap.output.error);
      for (const secret of [pkce.verifier, 'DEVICE-secret', 'AT-secret']) expect(text).not.toContain(secret);
    }
  },
});

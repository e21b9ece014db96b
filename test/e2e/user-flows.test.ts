/**
 * User flows through the real OpenCode CLI: device code and authorization code, logged in either on demand by
 * `opencode run` (the plugin shows the code/URL on stderr, BROWSER opens it) or first with
 * `opencode providers login` (the plugin's auth hook); then a token revoked at the IdP (before a run, and in the
 * middle of one) is recovered with one refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT } from '../../lab/index.mjs';
import { startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, Scenario, tempRoot, Timings, waitUntil } from './harness.js';

const MODEL = 'lab-model';
const DEVICE_LABEL = 'Device code login';
const BROWSER_LABEL = 'Browser login (authorization code)';
/** The plugin's stderr notice for a device login: "… enter the code ABCD-EFGH …" or a `code:` line. */
const USER_CODE = /(?:enter the code|code:)\s+([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)/;

/** Per scenario: OpenCode runs (~3 s each, slower when other files run beside) plus any wait for expiry. */
const TEST_TIMEOUT_MS = 90_000;

let lab: E2eLab;
const root = tempRoot('user');
const timings = new Timings();
/** access tokens the IdP saved, with whom they belong to (to revoke the right one) */
const accessTokens: Array<{ value: string; accountId: string | undefined; clientId: string | undefined }> = [];

beforeAll(async () => {
  lab = await startLab({ idp: { deviceInterval: 1 } });
  lab.idp.provider.on('access_token.saved', (token: any) =>
    accessTokens.push({ value: String(token.jti), accountId: token.accountId, clientId: token.clientId }),
  );
});

afterAll(async () => {
  await lab?.stop();
  root.remove();
  timings.print('user-flows');
});

/**
 * A user-flow provider. `listModel`: the model is listed in the config. Without it, before the first login
 * the plugin cannot read the gateway's list (no token; start-up never prompts) and registers the model named by
 * `opencode run --model` as a stand-in, so OpenCode does not reject it before the login can start.
 */
function userProvider(flow: 'device_code' | 'authorization_code', extra: Record<string, unknown> = {}, listModel = true) {
  return {
    name: 'Corp AI',
    ...(listModel ? { models: { [MODEL]: {} } } : {}),
    options: {
      baseURL: lab.gateway.baseURL,
      oauth2: {
        issuer: lab.idp.issuer,
        clientId: lab.idp.clients.native.client_id,
        authFlow: flow,
        scopes: ['openid', 'offline_access', 'api:read'],
        ...extra,
      },
    },
  };
}

/** The browser shim, logging in as `account`. */
function browserEnv(account: string) {
  return {
    BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`,
    LAB_LOGIN_HINT: account,
    OPENCODE_OAUTH_INTERACTIVE: '1',
  };
}

/** After a login, no browser may open and no login may start: renewal must come from the refresh token. */
const NO_LOGIN = { BROWSER: '/bin/false', OPENCODE_OAUTH_INTERACTIVE: '0' };

/** The newest access token the IdP issued to an account (the one the plugin holds). */
function latestToken(account: string): string {
  const token = accessTokens.filter((t) => t.accountId === account).at(-1);
  if (!token) throw new Error(`no access token was issued to ${account}`);
  return token.value;
}

/** Counters now, to read what one run added. */
function mark() {
  const requests = lab.gateway.requests.length;
  const refreshes = grants('refresh_token');
  const logins = grants('authorization_code');
  return {
    requests,
    rejectedSince: () => lab.gateway.requests.slice(requests).filter((r) => r.status === 401),
    refreshesSince: () => grants('refresh_token') - refreshes,
    loginsSince: () => grants('authorization_code') - logins,
  };
}

const gatewayCalls = (sub: string) => lab.gateway.requests.filter((r) => r.path.endsWith('/chat/completions') && r.sub === sub);
const grants = (grant: string) => lab.idp.grantCount(grant).successes;

describe('user flows with the real OpenCode CLI', () => {
  it('device_code on demand: `opencode run` shows the code on stderr, it is approved on the IdP pages, the answer comes', async () => {
    await timings.time('device_code (run, approved on the IdP pages)', async () => {
      const scenario = new Scenario(root.root, 'device-run', {
        env: { OPENCODE_OAUTH_INTERACTIVE: '1' },
        config: { provider: { dev: userProvider('device_code', { openBrowser: false }) } },
      });
      const before = grants('device_code');
      const proc = scenario.start(`dev/${MODEL}`);
      const match = await proc.waitFor(USER_CODE, 25_000);
      const approval = await lab.idp.approveDevice(String(match[1]), { loginHint: 'dana' });
      expect(approval.approved).toBe(true);
      const result = await proc.done;

      expect(result.code, describeRun(result)).toBe(0);
      expect(answerText(result.stdout)).toContain('sub=dana');
      expect(grants('device_code') - before).toBe(1);
      expect(gatewayCalls('dana').every((r) => r.authorized)).toBe(true);

      // the next run uses the stored token: no second login
      const again = await scenario.run(`dev/${MODEL}`);
      expect(again.code, describeRun(again)).toBe(0);
      expect(again.stderr).not.toMatch(USER_CODE);
      expect(grants('device_code') - before).toBe(1);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('device_code through `opencode providers login` (the auth hook), BROWSER approves, then `opencode run` answers', async () => {
    await timings.time('device_code (providers login, BROWSER)', async () => {
      const scenario = new Scenario(root.root, 'device-login', {
        env: browserEnv('erin'),
        config: { provider: { dev: userProvider('device_code', {}, false) } },
      });
      const before = grants('device_code');
      const login = await scenario.opencode(['providers', 'login', '-p', 'dev', '-m', DEVICE_LABEL]);
      expect(login.code, describeRun(login)).toBe(0);
      expect(`${login.stdout}\n${login.stderr}`).toMatch(/Login successful/i);
      expect(grants('device_code') - before).toBe(1);

      const result = await scenario.run(`dev/${MODEL}`, 'hello', { env: { OPENCODE_OAUTH_INTERACTIVE: '0' } });
      expect(result.code, describeRun(result)).toBe(0);
      expect(answerText(result.stdout)).toContain('sub=erin');
      expect(grants('device_code') - before).toBe(1);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('authorization_code on demand, model not listed anywhere: BROWSER completes the PKCE login on the loopback redirect', async () => {
    await timings.time('authorization_code (run, BROWSER shim, unlisted model)', async () => {
      const scenario = new Scenario(root.root, 'authcode-run', {
        env: browserEnv('frank'),
        config: { provider: { web: userProvider('authorization_code', {}, false) } },
      });
      const before = grants('authorization_code');
      const result = await scenario.run(`web/${MODEL}`);

      expect(result.code, describeRun(result)).toBe(0);
      expect(answerText(result.stdout)).toContain('sub=frank');
      expect(grants('authorization_code') - before).toBe(1);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('authorization_code through `opencode providers login`, then `opencode run` answers without a browser', async () => {
    await timings.time('authorization_code (providers login, BROWSER shim)', async () => {
      const scenario = new Scenario(root.root, 'authcode-login', {
        env: browserEnv('grace'),
        config: { provider: { web: userProvider('authorization_code', {}, false) } },
      });
      const before = grants('authorization_code');
      const login = await scenario.opencode(['providers', 'login', '-p', 'web', '-m', BROWSER_LABEL]);
      expect(login.code, describeRun(login)).toBe(0);
      expect(grants('authorization_code') - before).toBe(1);

      const result = await scenario.run(`web/${MODEL}`, 'hello', { env: NO_LOGIN });
      expect(result.code, describeRun(result)).toBe(0);
      expect(answerText(result.stdout)).toContain('sub=grace');
      expect(grants('authorization_code') - before).toBe(1);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('a token revoked at the IdP before the run: the start-up model list meets the 401 and renews once', async () => {
    await timings.time('revoked before the run → 401 at start-up → one refresh', async () => {
      const scenario = new Scenario(root.root, 'revoked-before', {
        env: browserEnv('heidi'),
        config: { provider: { web: userProvider('authorization_code') } },
      });
      const first = await scenario.run(`web/${MODEL}`);
      expect(first.code, describeRun(first)).toBe(0);
      expect(await lab.idp.revokeToken(latestToken('heidi'))).toBe(true);

      const marks = mark();
      // no browser now: the recovery must come from the refresh token alone
      const second = await scenario.run(`web/${MODEL}`, 'hello', { env: NO_LOGIN });

      expect(second.code, describeRun(second)).toBe(0);
      expect(answerText(second.stdout)).toContain('sub=heidi');
      const rejected = marks.rejectedSince();
      expect(rejected.length).toBe(1);
      expect(marks.refreshesSince()).toBe(1);
      expect(marks.loginsSince()).toBe(0);
      expect(lab.idp.counters.token.refresh_token?.errors ?? {}).toEqual({});
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('a token revoked during the run: the chat request gets 401, the fetch wrapper renews once and the replay answers', async () => {
    await timings.time('revoked mid-run → chat 401 → one refresh + replay', async () => {
      const scenario = new Scenario(root.root, 'revoked-mid-run', {
        env: browserEnv('ivy'),
        config: { provider: { web: userProvider('authorization_code') } },
      });
      const first = await scenario.run(`web/${MODEL}`);
      expect(first.code, describeRun(first)).toBe(0);

      const marks = mark();
      const proc = scenario.start(`web/${MODEL}`, 'hello', { env: NO_LOGIN });
      // The plugin's start-up model list goes out with the stored token and passes; OpenCode's first chat
      // request comes ~0.5 s later. Revoke in between, so the 401 meets the chat request itself.
      await waitUntil(
        () => lab.gateway.requests.slice(marks.requests).some((r) => r.path.endsWith('/models') && r.sub === 'ivy' && r.authorized),
        30_000,
        'the start-up model list of the second run',
        5,
      );
      const chatsBeforeRevoke = lab.gateway.requests.slice(marks.requests).filter((r) => r.path.endsWith('/chat/completions')).length;
      expect(await lab.idp.revokeToken(latestToken('ivy'))).toBe(true);
      const second = await proc.done;

      expect(chatsBeforeRevoke, 'the chat request went out before the revocation: timing of this test').toBe(0);
      expect(second.code, describeRun(second)).toBe(0);
      expect(answerText(second.stdout)).toContain('sub=ivy');
      const rejected = marks.rejectedSince();
      // title and main request may both carry the revoked token; each 401 is replayed, the renewal is shared
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      expect(rejected.every((r) => r.path.endsWith('/chat/completions'))).toBe(true);
      expect(marks.refreshesSince()).toBe(1);
      expect(marks.loginsSince()).toBe(0);
      const answered = lab.gateway.requests.slice(marks.requests).filter((r) => r.path.endsWith('/chat/completions') && r.status === 200);
      expect(answered.length).toBeGreaterThanOrEqual(rejected.length);
      expect(answered.every((r) => r.sub === 'ivy')).toBe(true);
      expect(lab.idp.counters.token.refresh_token?.errors ?? {}).toEqual({});
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('the leak sweeps above looked for every kind of secret these scenarios produced', () => {
    const kinds = lab.secrets.kinds();
    for (const kind of ['access_token', 'refresh_token', 'authorization_code', 'code_verifier', 'device_code']) {
      expect(kinds[kind] ?? 0, kind).toBeGreaterThan(0);
    }
  });
});

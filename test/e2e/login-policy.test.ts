/**
 * Where `opencode run` may start a login from a request (docs/plugin.md, "From a request"), with the real CLI:
 * started by a script or an editor task (stdin /dev/null, stderr captured, so no TTY) it logs in when a browser
 * can be opened (`BROWSER` set), like the reference plugin; under CI or with OPENCODE_OAUTH_INTERACTIVE=0 it
 * refuses with the exact command, and nothing reaches the IdP or the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT } from '../../lab/index.mjs';
import { startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, Scenario, shownErrors, tempRoot, Timings } from './harness.js';

const MODEL = 'lab-model';
const TEST_TIMEOUT_MS = 90_000;

let lab: E2eLab;
const root = tempRoot('policy');
const timings = new Timings();

beforeAll(async () => {
  lab = await startLab({ idp: { deviceInterval: 1 } });
});

afterAll(async () => {
  await lab?.stop();
  root.remove();
  timings.print('login-policy');
});

/** A user-flow provider with no models declared (the model of `--model` stands in until the first login). */
function userProvider(flow: 'device_code' | 'authorization_code') {
  return {
    name: 'Corp AI',
    options: {
      baseURL: lab.gateway.baseURL,
      oauth2: { issuer: lab.idp.issuer, clientId: lab.idp.clients.native.client_id, authFlow: flow, scopes: ['openid', 'offline_access', 'api:read'] },
    },
  };
}

/** A browser (the lab's shim walks the IdP's pages as `account`); no OPENCODE_OAUTH_INTERACTIVE, no CI. */
const withBrowser = (account: string) => ({ BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`, LAB_LOGIN_HINT: account });

/** What one run added at the IdP and the gateway. */
function counters() {
  const grants = (grant: string) => lab.idp.grantCount(grant).successes;
  const start = {
    device: grants('device_code'),
    code: grants('authorization_code'),
    deviceRequests: lab.idp.counters.deviceAuthorization.requests,
    chats: lab.gateway.counters.chatCompletions,
  };
  return () => ({
    logins: grants('device_code') - start.device + (grants('authorization_code') - start.code),
    deviceRequests: lab.idp.counters.deviceAuthorization.requests - start.deviceRequests,
    chats: lab.gateway.counters.chatCompletions - start.chats,
  });
}

describe('login from a request: who may start one (real CLI, no TTY)', () => {
  for (const flow of ['device_code', 'authorization_code'] as const) {
    it(`${flow}: no TTY, no CI, BROWSER set → the request logs in through the browser (1 login in the first run, 0 in the next)`, async () => {
      await timings.time(`${flow}: no TTY + BROWSER`, async () => {
        const account = flow === 'device_code' ? 'gina' : 'hank';
        const scenario = new Scenario(root.root, `browser-${flow}`, { env: withBrowser(account), config: { provider: { corp: userProvider(flow) } } });
        const perRun: number[] = [];

        let added = counters();
        const first = await scenario.run(`corp/${MODEL}`);
        perRun.push(added().logins);
        expect(first.code, describeRun(first)).toBe(0);
        expect(answerText(first.stdout)).toContain(`sub=${account}`);
        // headless: the login is plain stderr lines
        expect(first.stderr).toMatch(/\[opencode-oauth-machines\] corp: /);
        expect(first.stderr).toContain('[opencode-oauth-machines] Logged in to Corp AI');

        added = counters();
        const second = await scenario.run(`corp/${MODEL}`);
        perRun.push(added().logins);
        expect(second.code, describeRun(second)).toBe(0);
        expect(second.stderr).not.toContain('[opencode-oauth-machines] corp: ');

        process.stdout.write(`[login-policy] ${flow} no TTY + BROWSER: logins per run ${JSON.stringify(perRun)}\n`);
        expect(perRun).toEqual([1, 0]);
        expect(scenario.sweep(lab)).toEqual([]);
      });
    }, TEST_TIMEOUT_MS);
  }

  const refused = [
    { name: 'CI=true', env: { CI: 'true' }, says: /\[corp\] not logged in to Corp AI — CI is set, and CI cannot answer a device_code login: use a machine flow/ },
    { name: 'GITHUB_ACTIONS=true', env: { GITHUB_ACTIONS: 'true' }, says: /\[corp\] not logged in to Corp AI — GITHUB_ACTIONS is set[^\n]*machine flow/ },
    { name: 'OPENCODE_OAUTH_INTERACTIVE=0', env: { OPENCODE_OAUTH_INTERACTIVE: '0' }, says: /\[corp\] not logged in to Corp AI — run `opencode auth login`, pick "Corp AI" and "Device code login"/ },
  ];
  for (const { name, env, says } of refused) {
    it(`${name} (BROWSER set too) → refused with the exact command, nothing sent to the IdP or the gateway`, async () => {
      await timings.time(`refused: ${name}`, async () => {
        const scenario = new Scenario(root.root, `refused-${name.split('=')[0]!.toLowerCase()}`, {
          env: { ...withBrowser('ivy'), ...env },
          config: { provider: { corp: userProvider('device_code') } },
        });
        const added = counters();
        const result = await scenario.run(`corp/${MODEL}`);
        expect(result.timedOut, describeRun(result)).toBe(false);
        expect(result.code, describeRun(result)).not.toBe(0);
        expect(shownErrors(result)).toMatch(says);
        expect(shownErrors(result)).toContain('opencode providers login -p corp -m "Device code login"');
        const seen = added();
        process.stdout.write(`[login-policy] ${name}: logins ${seen.logins}, device authorizations ${seen.deviceRequests}, chat requests ${seen.chats}\n`);
        expect(seen).toEqual({ logins: 0, deviceRequests: 0, chats: 0 });
        expect(scenario.sweep(lab)).toEqual([]);
      });
    }, TEST_TIMEOUT_MS);
  }
});

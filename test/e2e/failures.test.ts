/**
 * Failures a user must understand from OpenCode's own output: a broken provider block beside a working one,
 * an IdP that is down, an IdP that hangs, a user flow never logged in where no login may start. Each ends in
 * bounded time with an error naming the provider and what to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grepLines, startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, Scenario, shownErrors, tempRoot, Timings } from './harness.js';

const MODEL = 'lab-model';
/** Our deadline for a failing run. OpenCode's own retries against an unreachable *gateway* take ~65 s; a token
 * that cannot be had must fail in chat.headers long before that. */
const FAILURE_DEADLINE_MS = 30_000;
const LOG_PREFIX = 'opencode-oauth-machines: ';

/** Per scenario: OpenCode runs (~3 s each, slower when other files run beside) plus any wait for expiry. */
const TEST_TIMEOUT_MS = 120_000;

let lab: E2eLab;
const root = tempRoot('failures');
const timings = new Timings();

beforeAll(async () => {
  lab = await startLab();
});

afterAll(async () => {
  await lab?.stop();
  root.remove();
  timings.print('failures');
});

function machineProvider(issuer: string, extra: Record<string, unknown> = {}, models?: Record<string, unknown>) {
  const client = lab.idp.clients.post;
  return {
    name: 'Corp AI',
    options: {
      baseURL: lab.gateway.baseURL,
      oauth2: {
        issuer,
        clientId: client.client_id,
        clientSecret: '{env:CORP_CLIENT_SECRET}',
        authFlow: 'client_credentials',
        scopes: ['api:read'],
        ...extra,
      },
    },
    ...(models ? { models } : {}),
  };
}

describe('failures with the real OpenCode CLI', () => {
  it('one broken provider beside a working one: the working one answers, the broken one is named with its field', async () => {
    await timings.time('broken provider beside a working one (2 runs)', async () => {
      const scenario = new Scenario(root.root, 'broken', {
        env: { CORP_CLIENT_SECRET: lab.idp.clients.post.client_secret },
        config: {
          provider: {
            good: machineProvider(lab.idp.issuer),
            // client_credentials without a clientSecret: invalid, must not take `good` down
            broken: {
              name: 'Broken AI',
              options: {
                baseURL: lab.gateway.baseURL,
                oauth2: { issuer: lab.idp.issuer, clientId: 'lab-post', authFlow: 'client_credentials', scopes: ['api:read'] },
              },
              models: { [MODEL]: {} },
            },
          },
        },
      });

      const good = await scenario.run(`good/${MODEL}`);
      expect(good.code, describeRun(good)).toBe(0);
      expect(answerText(good.stdout)).toContain('client=lab-post');
      const issues = grepLines(good.log, `${LOG_PREFIX}config_issue`);
      expect(issues.some((line) => line.includes('broken') && line.includes('clientSecret'))).toBe(true);
      // shown where the user looks, not only in the log
      expect(good.stderr).toMatch(/broken[^\n]*clientSecret/);

      const broken = await scenario.run(`broken/${MODEL}`, 'hello', { timeoutMs: FAILURE_DEADLINE_MS });
      expect(broken.timedOut).toBe(false);
      expect(broken.code, describeRun(broken)).not.toBe(0);
      // OpenCode prints the plugin's error: provider, field, and what to do
      expect(shownErrors(broken)).toMatch(/broken: clientSecret is required[^\n]*— fix/);
      timings.record('  broken provider: failing run', broken.ms);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('the IdP is down (connection refused): a clear error names the provider, in bounded time', async () => {
    await timings.time('IdP down (connection refused)', async () => {
      // Port 9 (discard) on loopback: nothing listens there, and unlike the port of a server this test just
      // stopped, no server started meanwhile by a test running beside this one can take it over.
      const issuer = 'http://127.0.0.1:9';
      const scenario = new Scenario(root.root, 'idp-down', {
        env: { CORP_CLIENT_SECRET: lab.idp.clients.post.client_secret },
        config: {
          provider: { corp: machineProvider(issuer, { httpTimeoutMs: 3000, warmupTimeoutMs: 3000 }, { [MODEL]: {} }) },
        },
      });
      const requestsBefore = lab.gateway.counters.chatCompletions;

      const result = await scenario.run(`corp/${MODEL}`, 'hello', { timeoutMs: FAILURE_DEADLINE_MS });

      expect(result.timedOut, describeRun(result)).toBe(false);
      expect(result.code, describeRun(result)).not.toBe(0);
      // `Error: [corp] <what failed> — <what to do>`: the provider, the cause and a fix, from chat.headers
      expect(shownErrors(result)).toMatch(/\[corp\][^\n]*could not connect[^\n]* — /);
      // nothing reached the gateway without a token
      expect(lab.gateway.counters.chatCompletions - requestsBefore).toBe(0);
      timings.record('  IdP down: failing run', result.ms);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('the IdP hangs: the request fails after the configured HTTP timeout, not OpenCode\'s', async () => {
    await timings.time('IdP hangs (token endpoint never answers)', async () => {
      const scenario = new Scenario(root.root, 'idp-hang', {
        env: { CORP_CLIENT_SECRET: lab.idp.clients.post.client_secret },
        config: {
          provider: { corp: machineProvider(lab.idp.issuer, { httpTimeoutMs: 2000, warmupTimeoutMs: 2000 }, { [MODEL]: {} }) },
        },
      });
      lab.idp.fault({ fault: 'hang', grantType: 'client_credentials', times: 20 });
      const requestsBefore = lab.gateway.counters.chatCompletions;
      try {
        const result = await scenario.run(`corp/${MODEL}`, 'hello', { timeoutMs: FAILURE_DEADLINE_MS });
        expect(result.timedOut, describeRun(result)).toBe(false);
        expect(result.code, describeRun(result)).not.toBe(0);
        expect(shownErrors(result)).toMatch(/\[corp\][^\n]*token endpoint[^\n]* — /);
        expect(lab.gateway.counters.chatCompletions - requestsBefore).toBe(0);
        timings.record('  IdP hangs: failing run', result.ms);
        expect(scenario.sweep(lab)).toEqual([]);
      } finally {
        lab.idp.clearFaults();
      }
    });
  }, TEST_TIMEOUT_MS);

  it('a user flow never logged in, where no login may start (CI): the error says how to log in, nothing is sent', async () => {
    await timings.time('user flow, not logged in, non-interactive', async () => {
      const scenario = new Scenario(root.root, 'not-logged-in', {
        env: { CI: 'true', BROWSER: '/bin/false' },
        config: {
          provider: {
            web: {
              name: 'Corp AI',
              options: {
                baseURL: lab.gateway.baseURL,
                oauth2: {
                  issuer: lab.idp.issuer,
                  clientId: lab.idp.clients.native.client_id,
                  authFlow: 'device_code',
                  scopes: ['openid', 'offline_access', 'api:read'],
                },
              },
            },
          },
        },
      });
      const requestsBefore = lab.gateway.counters.chatCompletions;
      const devicesBefore = lab.idp.counters.deviceAuthorization.requests;

      const result = await scenario.run(`web/${MODEL}`, 'hello', { timeoutMs: FAILURE_DEADLINE_MS });

      expect(result.timedOut, describeRun(result)).toBe(false);
      expect(result.code, describeRun(result)).not.toBe(0);
      expect(shownErrors(result)).toMatch(/\[web\][^\n]*not logged in[^\n]*— [^\n]*opencode auth login/);
      expect(lab.gateway.counters.chatCompletions - requestsBefore).toBe(0);
      expect(lab.idp.counters.deviceAuthorization.requests - devicesBefore).toBe(0);
      timings.record('  not logged in: failing run', result.ms);
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('the leak sweeps above looked for every kind of secret these scenarios produced', () => {
    const kinds = lab.secrets.kinds();
    for (const kind of ['client_secret:post', 'client_credentials']) {
      expect(kinds[kind] ?? 0, kind).toBeGreaterThan(0);
    }
  });
});

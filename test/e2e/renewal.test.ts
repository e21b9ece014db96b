/**
 * Renewal across OpenCode processes: the token store and its lock are shared by every `opencode run` of a
 * user, so an expired token is refreshed once, whether one process or six find it expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT } from '../../lab/index.mjs';
import { startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, RUN_TIMEOUT_MS, Scenario, sleep, tempRoot, Timings } from './harness.js';

const MODEL = 'lab-model';
/**
 * Real access-token lifetime at the IdP for the "second run after expiry" lab. Long enough that the refreshed
 * token stays out of its own soft window (L/2) for the rest of a slow second run on 2 busy cores.
 */
const SHORT_TTL_SEC = 15;
/** Lifetime the plugin assumes for a token sent without expires_in (the parallel test's first token). */
const ASSUMED_TTL_SEC = 10;
const PARALLEL = 6;

/** The access tokens each IdP saved, with owner and time, to wait for the right expiry and revoke the right one. */
type Saved = { value: string; accountId: string | undefined; savedAt: number; expiresIn: number };

/** Per scenario: OpenCode runs (~3 s each, slower when other files run beside) plus the wait for expiry. */
const TEST_TIMEOUT_MS = 180_000;

let shortLab: E2eLab;
let longLab: E2eLab;
const saved = new Map<E2eLab, Saved[]>();
const root = tempRoot('renewal');
const timings = new Timings();

function follow(lab: E2eLab) {
  const list: Saved[] = [];
  saved.set(lab, list);
  lab.idp.provider.on('access_token.saved', (token: any) =>
    list.push({ value: String(token.jti), accountId: token.accountId, savedAt: Date.now(), expiresIn: Number(token.expiration) }),
  );
}

beforeAll(async () => {
  shortLab = await startLab({ idp: { accessTokenTtl: SHORT_TTL_SEC } });
  longLab = await startLab({ idp: { accessTokenTtl: 120 } });
  follow(shortLab);
  follow(longLab);
});

afterAll(async () => {
  await Promise.all([shortLab?.stop(), longLab?.stop()]);
  root.remove();
  timings.print('renewal');
});

/** The model is listed: the first run logs in on demand, before which the gateway's list cannot be read. */
function webProvider(lab: E2eLab, extra: Record<string, unknown> = {}) {
  return {
    name: 'Corp AI',
    models: { [MODEL]: {} },
    options: {
      baseURL: lab.gateway.baseURL,
      oauth2: {
        issuer: lab.idp.issuer,
        clientId: lab.idp.clients.native.client_id,
        authFlow: 'authorization_code',
        scopes: ['openid', 'offline_access', 'api:read'],
        ...extra,
      },
    },
  };
}

const loginEnv = (account: string) => ({
  BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`,
  LAB_LOGIN_HINT: account,
  OPENCODE_OAUTH_INTERACTIVE: '1',
});
/** After the login no browser may open: renewal must come from the refresh token alone. */
const NO_LOGIN = { BROWSER: '/bin/false', OPENCODE_OAUTH_INTERACTIVE: '0' };

const latestFor = (lab: E2eLab, account: string) => saved.get(lab)!.filter((t) => t.accountId === account).at(-1);
const refreshErrors = (lab: E2eLab) => lab.idp.counters.token.refresh_token?.errors ?? {};

describe('renewal with the real OpenCode CLI', () => {
  it('a second run after the access token expired refreshes exactly once, before sending anything', async () => {
    await timings.time(`second run after expiry (TTL ${SHORT_TTL_SEC} s, includes the wait)`, async () => {
      const lab = shortLab;
      const scenario = new Scenario(root.root, 'after-expiry', {
        env: loginEnv('ivan'),
        config: { provider: { web: webProvider(lab) } },
      });
      const first = await scenario.run(`web/${MODEL}`);
      expect(first.code, describeRun(first)).toBe(0);
      const token = latestFor(lab, 'ivan');
      expect(token?.expiresIn).toBe(SHORT_TTL_SEC);
      await sleep(Math.max(0, token!.savedAt + SHORT_TTL_SEC * 1000 + 500 - Date.now()));

      const refreshBefore = lab.idp.grantCount('refresh_token').successes;
      const loginsBefore = lab.idp.grantCount('authorization_code').successes;
      const rejectedBefore = lab.gateway.requests.filter((r) => r.status === 401).length;
      const second = await scenario.run(`web/${MODEL}`, 'hello', { env: NO_LOGIN });

      expect(second.code, describeRun(second)).toBe(0);
      expect(answerText(second.stdout)).toContain('sub=ivan');
      expect(lab.idp.grantCount('refresh_token').successes - refreshBefore).toBe(1);
      expect(lab.idp.grantCount('authorization_code').successes - loginsBefore).toBe(0);
      // the plugin knew the token had expired: nothing was sent with it
      expect(lab.gateway.requests.filter((r) => r.status === 401).length - rejectedBefore).toBe(0);
      expect(refreshErrors(lab)).toEqual({});
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it(`${PARALLEL} parallel \`opencode run\` at expiry: all answer, 1 refresh, 0 invalid_grant`, async () => {
    await timings.time(`${PARALLEL} parallel runs at expiry (includes the wait)`, async () => {
      const lab = longLab;
      const scenario = new Scenario(root.root, 'parallel', {
        env: loginEnv('judy'),
        config: { provider: { web: webProvider(lab, { refreshWindow: { assumedLifetimeSec: ASSUMED_TTL_SEC } }) } },
      });
      // The login's token comes without expires_in: the plugin takes it for ASSUMED_TTL_SEC s. The refreshed
      // token (120 s) then outlives the whole burst, so any second refresh would be a single-flight failure.
      lab.idp.fault({ fault: 'drop_expires_in', grantType: 'authorization_code' });
      const login = await scenario.run(`web/${MODEL}`);
      expect(login.code, describeRun(login)).toBe(0);
      const token = latestFor(lab, 'judy');
      expect(token).toBeDefined();
      await sleep(Math.max(0, token!.savedAt + ASSUMED_TTL_SEC * 1000 + 500 - Date.now()));
      // and it is dead at the IdP too: a process that sent it anyway would meet a 401
      expect(await lab.idp.revokeToken(token!.value)).toBe(true);

      const refreshBefore = lab.idp.grantCount('refresh_token').successes;
      const loginsBefore = lab.idp.grantCount('authorization_code').successes;
      const grantErrorsBefore = lab.idp.grantErrors.length;
      const runs = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          scenario.run(`web/${MODEL}`, 'hello', { env: NO_LOGIN, timeoutMs: RUN_TIMEOUT_MS + 30_000 }),
        ),
      );

      for (const run of runs) {
        expect(run.code, describeRun(run)).toBe(0);
        expect(answerText(run.stdout)).toContain('sub=judy');
      }
      expect(lab.idp.grantCount('refresh_token').successes - refreshBefore).toBe(1);
      expect(refreshErrors(lab)).toEqual({});
      expect(lab.idp.grantErrors.slice(grantErrorsBefore).filter((e) => e.error === 'invalid_grant')).toEqual([]);
      expect(lab.idp.grantCount('authorization_code').successes - loginsBefore).toBe(0);
      expect(scenario.sweep(lab)).toEqual([]);
      timings.record(`  slowest of the ${PARALLEL} parallel runs`, Math.max(...runs.map((r) => r.ms)));
    });
  }, TEST_TIMEOUT_MS);

  it('the leak sweeps above looked for every kind of secret these scenarios produced', () => {
    for (const lab of [shortLab, longLab]) {
      const kinds = lab.secrets.kinds();
      for (const kind of ['access_token', 'refresh_token', 'authorization_code', 'code_verifier']) {
        expect(kinds[kind] ?? 0, kind).toBeGreaterThan(0);
      }
    }
  });
});

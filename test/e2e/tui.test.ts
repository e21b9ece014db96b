/**
 * The real OpenCode TUI (`opencode`, no sub-command) in tmux, as a new user meets it: a fresh device_code
 * provider with no models declared, never logged in. It must be listed in /models and /connect before the first
 * login; choosing it in /connect shows the user code in OpenCode's own dialog; after the approval on the lab
 * IdP's pages the discovered models replace the stand-in at once, and a prompt gets the gateway's answer. The
 * plugin writes nothing to the terminal: no screen ever shows plugin text outside a toast or a dialog.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT } from '../../lab/index.mjs';
import { screenLines, startLab, startTui } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import type { TuiSession } from '../../scripts/e2e-support/tmux.mjs';
import { Scenario, tempRoot, Timings } from './harness.js';

/** Start-up of the TUI (fresh state dir) on 2 busy cores; every other step waits at most STEP_MS. */
const START_MS = 40_000;
const STEP_MS = 20_000;
const TEST_TIMEOUT_MS = 180_000;
const USER_CODE = /[A-Z0-9]{4}-[A-Z0-9]{4}/;
/** What the plugin's terminal lines and log lines carry: never on a TUI screen. */
const PLUGIN_TEXT = /opencode-oauth-machines/;

/** A fresh device_code provider on the lab, no models declared. */
const deviceProvider = () => ({
  name: 'Corp gateway',
  options: {
    baseURL: lab.gateway.baseURL,
    oauth2: {
      issuer: lab.idp.issuer,
      clientId: lab.idp.clients.native.client_id,
      authFlow: 'device_code',
      scopes: ['openid', 'offline_access', 'api:read'],
    },
  },
});

let lab: E2eLab;
const root = tempRoot('tui');
const timings = new Timings();
/** Every TUI started, stopped in afterAll whatever happened (a passing test stops its own at the end). */
const sessions: TuiSession[] = [];

beforeAll(async () => {
  lab = await startLab({ idp: { deviceInterval: 1 } });
});

afterAll(async () => {
  for (const session of sessions) session.stop();
  await lab?.stop();
  root.remove();
  timings.print('tui');
});

/** A screen step for the report: the non-blank lines that matter. */
function show(step: string, screen: string, keep: RegExp) {
  const lines = screenLines(screen).filter((line) => keep.test(line));
  process.stdout.write(`[tui] ${step}\n${lines.map((line) => `    ${line}`).join('\n')}\n`);
}

describe('the OpenCode TUI in tmux', () => {
  it('a fresh device_code provider: /models and /connect list it, /connect shows the code, the approval lists the models, a prompt is answered', async () => {
    await timings.time('TUI: /connect device login, then a prompt', async () => {
      const scenario = new Scenario(root.root, 'tui-device', {
        config: { provider: { dev: deviceProvider() } },
      });
      const deviceGrants = lab.idp.grantCount('device_code').successes;
      const session = startTui({ cwd: scenario.projectDir, env: scenario.env, dir: scenario.stateDir });
      sessions.push(session);

      const home = await session.waitFor(/Ask anything/, START_MS, 'the TUI home screen');
      show('start', home.screen, /Ask anything|Build/);

      // /models before any login: the stand-in that says to log in
      session.type('/models');
      await session.waitFor(/\/models\s+\S/, STEP_MS, 'the /models completion');
      session.keys('Enter');
      session.type('Corp');
      const models = await session.waitFor(/Log in to Corp gateway with \/connect/, STEP_MS, 'the stand-in in /models');
      show('/models, filtered "Corp"', models.screen, /Corp|Select model|Log in/);
      session.keys('Escape');
      await session.waitForGone(/Select model/, STEP_MS, 'the /models dialog');

      // /connect lists the provider; choosing it runs our login through the auth hook
      session.type('/connect');
      await session.waitFor(/\/connect\s+Connect provider/, STEP_MS, 'the /connect completion');
      session.keys('Enter');
      await session.waitFor(/Connect a provider/, STEP_MS, 'the /connect dialog');
      session.type('Corp');
      const listed = await session.waitFor(/Corp gateway/, STEP_MS, 'the provider in /connect');
      show('/connect, filtered "Corp"', listed.screen, /Connect a provider|Corp/);
      session.keys('Enter');
      const dialog = await session.waitFor(/Waiting for authorization/, STEP_MS, 'the device code dialog');
      const code = dialog.screen.match(USER_CODE)?.[0];
      expect(code, dialog.screen).toBeTruthy();
      expect(dialog.screen).toContain(`${lab.idp.issuer}/device`);
      expect(dialog.screen).toContain('Device code login');
      // the code is in the dialog only: its URL and its instructions, nothing written beside it
      expect(dialog.screen.split(code!).length - 1, dialog.screen).toBe(2);
      show('/connect → Corp gateway', dialog.screen, /Device code login|device|code|Waiting|copy/);

      // approve on the IdP's pages (what the user does in a browser)
      const approval = await lab.idp.approveDevice(code!, { loginHint: 'dana' });
      expect(approval.approved).toBe(true);
      // OpenCode rebuilds the instance after a login: the discovered list replaces the stand-in at once
      const picked = await session.waitFor(/Lab Model/, STEP_MS, 'the discovered model after the login');
      expect(picked.screen).not.toContain('Log in to Corp gateway');
      expect(picked.screen).not.toContain(code!);
      show('after the approval', picked.screen, /Corp gateway|Lab Model|Connect provider/);
      session.keys('Enter');
      await session.waitFor(/Build · Lab Model/, STEP_MS, 'the chosen model');

      session.type('hello from the tui');
      session.keys('Enter');
      const answer = await session.waitFor(/Hello from the lab gateway \(model lab-model\); sub=dana/, STEP_MS * 2, "the gateway's answer");
      show('prompt "hello from the tui"', answer.screen, /hello from the tui|Hello from the lab gateway|sub=dana|Build/);

      expect(lab.idp.grantCount('device_code').successes - deviceGrants).toBe(1);
      const chats = lab.gateway.requests.filter((r) => r.path.endsWith('/chat/completions') && r.sub === 'dana');
      expect(chats.length).toBeGreaterThan(0);
      expect(chats.every((r) => r.authorized)).toBe(true);

      // no screen ever showed plugin text outside OpenCode's dialog and toasts
      expect(answer.screen).not.toMatch(/To log in to|Waiting for authorization/);
      const leaked = session.screens.filter((screen) => PLUGIN_TEXT.test(screen));
      expect(leaked, leaked[0]).toEqual([]);
      session.stop();
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('a prompt to a provider never logged in (opencode.json names its model): one toast with the code, replaced by "Logged in to Corp gateway"; nothing on the terminal', async () => {
    await timings.time('TUI: login from a prompt (toast)', async () => {
      const scenario = new Scenario(root.root, 'tui-request', {
        config: { model: 'dev/lab-model', provider: { dev: deviceProvider() } },
      });
      const deviceGrants = lab.idp.grantCount('device_code').successes;
      const session = startTui({ cwd: scenario.projectDir, env: scenario.env, dir: scenario.stateDir });
      sessions.push(session);
      const home = await session.waitFor(/Build · Lab Model/, START_MS, 'the home screen with the stand-in model of opencode.json');
      show('start (model: dev/lab-model)', home.screen, /Ask anything|Build/);

      session.type('hello after a login');
      session.keys('Enter');
      const toast = await session.waitFor(/enter the code\s+[A-Z0-9]{4}-[A-Z0-9]{4}/, STEP_MS * 2, 'the login toast');
      const code = toast.match[0].match(USER_CODE)![0];
      show('the prompt waits for the login', toast.screen, /OAuth|log in|code|valid|device|hello after/);
      // said once: one "until" (the toast wraps, so "valid" and "until" may sit on two rows), the code in the
      // text and the URL only
      expect(toast.screen.match(/\buntil\b/g), toast.screen).toHaveLength(1);
      expect(toast.screen).not.toMatch(/\(until /);

      const approval = await lab.idp.approveDevice(code, { loginHint: 'dana' });
      expect(approval.approved).toBe(true);
      const done = await session.waitFor(/Logged in to Corp gateway/, STEP_MS, 'the result toast');
      expect(done.screen).not.toContain(code);
      show('after the approval', done.screen, /OAuth|Logged in|hello after|Hello from/);
      const answer = await session.waitFor(/Hello from the lab gateway \(model lab-model\); sub=dana/, STEP_MS * 2, "the gateway's answer");
      show('the answer', answer.screen, /hello after|Hello from the lab gateway|sub=dana/);

      expect(lab.idp.grantCount('device_code').successes - deviceGrants).toBe(1);
      const leaked = session.screens.filter((screen) => PLUGIN_TEXT.test(screen));
      expect(leaked, leaked[0]).toEqual([]);
      session.stop();
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);

  it('authorization_code through /connect: the browser is opened (BROWSER) and logs in, the models follow at once', async () => {
    await timings.time('TUI: /connect browser login', async () => {
      const provider = deviceProvider();
      provider.options.oauth2.authFlow = 'authorization_code';
      const browserLog = root.dir('tui-browser-opened.jsonl');
      const scenario = new Scenario(root.root, 'tui-browser', {
        env: { BROWSER: `${process.execPath} ${BROWSER_SCRIPT}`, LAB_LOGIN_HINT: 'erin', LAB_BROWSER_LOG: browserLog },
        config: { provider: { web: { ...provider, name: 'Corp web' } } },
      });
      const codeGrants = lab.idp.grantCount('authorization_code').successes;
      const session = startTui({ cwd: scenario.projectDir, env: scenario.env, dir: scenario.stateDir });
      sessions.push(session);
      await session.waitFor(/Ask anything/, START_MS, 'the TUI home screen');
      session.type('/connect');
      await session.waitFor(/\/connect\s+Connect provider/, STEP_MS, 'the /connect completion');
      session.keys('Enter');
      await session.waitFor(/Connect a provider/, STEP_MS, 'the /connect dialog');
      session.type('Corp web');
      await session.waitFor(/Corp web/, STEP_MS, 'the provider in /connect');
      session.keys('Enter');
      // the browser (the lab's shim) logs in at once; the dialog with the login URL may be up only briefly
      const picked = await session.waitFor(/Lab Model/, STEP_MS, 'the discovered model after the login');
      show('after the browser login', picked.screen, /Corp web|Lab Model/);
      expect(lab.idp.grantCount('authorization_code').successes - codeGrants).toBe(1);
      const opened = readFileSync(browserLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { path?: string });
      expect(opened.map((entry) => entry.path)).toEqual([expect.stringMatching(/\/auth$/)]);
      const dialog = session.screens.find((screen) => /Browser login \(authorization code\)/.test(screen));
      if (dialog) show('/connect → Corp web (the dialog, while the browser logs in)', dialog, /Browser login|http|browser|Waiting|until/);
      const leaked = session.screens.filter((screen) => PLUGIN_TEXT.test(screen));
      expect(leaked, leaked[0]).toEqual([]);
      session.stop();
      expect(scenario.sweep(lab)).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);
});

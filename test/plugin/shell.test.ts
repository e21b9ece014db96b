import { mkdtemp, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as entry from '../../src/index.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import {
  createPluginLogger,
  createUserSurface,
  detectSurface,
  findProtectedAccess,
  LOGIN_SLOTS,
  loginDecision,
  refusalMessage,
  standInModels,
  withoutStandIns,
  protectedPaths,
  requestedModel,
  SecretStash,
} from '../../src/plugin/index.js';
import type { OpenCodeConfig } from '../../src/plugin/opencodeTypes.js';
import { fakeClient, loadPlugin } from './support.js';

describe('the OpenCode entry', () => {
  it('exports only plugin functions (OpenCode skips a module with any other export), one per login slot', async () => {
    const values = Object.values(entry);
    expect(values.every((value) => typeof value === 'function')).toBe(true);
    expect(new Set(values).size).toBe(LOGIN_SLOTS);
    expect(entry.default).toBe(entry.OAuthMachinesPlugin);
    // A slot serves nothing until the config hook found an interactive provider.
    const hooks = await entry.OAuthMachinesLogin3({ client: {} });
    expect(hooks.auth).toBeUndefined();
    expect(Object.keys(hooks)).toEqual(['auth']);
  });
});

describe('where the user looks', () => {
  it('tells headless commands from the TUI by the command line', () => {
    expect(detectSurface(['bun', '/$bunfs/root/opencode', 'run', '--model', 'a/b', 'hi'])).toBe('terminal');
    expect(detectSurface(['bun', '/$bunfs/root/opencode', 'providers', 'login'])).toBe('terminal');
    expect(detectSurface(['bun', '/$bunfs/root/opencode', '--print-logs', 'models'])).toBe('terminal');
    expect(detectSurface(['bun', '/$bunfs/root/opencode'])).toBe('tui');
    expect(detectSurface(['bun', '/$bunfs/root/opencode', '/some/project'])).toBe('tui');
  });

  it('reads the model `opencode run` asks for, and only from run', () => {
    const bun = ['bun', '/$bunfs/root/opencode'];
    expect(requestedModel([...bun, 'run', '--model', 'corp/glm-5', 'hi'])).toEqual({ providerId: 'corp', modelId: 'glm-5' });
    expect(requestedModel([...bun, 'run', '-m', 'corp/org/model-1', 'hi'])).toEqual({ providerId: 'corp', modelId: 'org/model-1' });
    expect(requestedModel([...bun, 'run', '--model=corp/x'])).toEqual({ providerId: 'corp', modelId: 'x' });
    expect(requestedModel([...bun, 'providers', 'login', '-p', 'corp', '-m', 'Device code login'])).toBeUndefined();
    expect(requestedModel([...bun, 'run', 'hi'])).toBeUndefined();
  });

  it('starts a login from a request wherever a person can answer it, and nowhere else (the table of docs/plugin.md)', () => {
    const tty = { stdin: true, stderr: true };
    const none = { stdin: false, stderr: false };
    const linux = 'linux' as const;
    const decide = (env: Record<string, string>, surface: 'tui' | 'terminal' = 'terminal', t = none, platform: NodeJS.Platform = linux) =>
      loginDecision({ env, surface, tty: t, platform }).because;
    // the TUI; a TTY on stdin or stderr
    expect(decide({}, 'tui')).toBe('tui');
    expect(decide({}, 'terminal', tty)).toBe('tty');
    expect(decide({}, 'terminal', { stdin: false, stderr: true })).toBe('tty');
    expect(decide({}, 'terminal', { stdin: true, stderr: false })).toBe('tty');
    // a browser can be opened: BROWSER, macOS, Windows, Linux with a display
    expect(decide({ BROWSER: 'firefox' })).toBe('browser');
    expect(decide({}, 'terminal', none, 'darwin')).toBe('browser');
    expect(decide({}, 'terminal', none, 'win32')).toBe('browser');
    expect(decide({ DISPLAY: ':0' })).toBe('browser');
    expect(decide({ WAYLAND_DISPLAY: 'wayland-0' })).toBe('browser');
    expect(decide({})).toBe('nobody');
    expect(loginDecision({ env: {}, surface: 'terminal', tty: none, platform: linux }).allowed).toBe(false);
    // CI never, whatever else is there
    for (const ci of ['CI', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BUILDKITE', 'JENKINS_URL', 'TF_BUILD']) {
      expect(decide({ [ci]: 'true', BROWSER: 'firefox', DISPLAY: ':0' }, 'tui', tty, 'darwin'), ci).toBe('ci');
    }
    expect(decide({ CI: 'false', BROWSER: 'firefox' })).toBe('browser');
    // OPENCODE_OAUTH_INTERACTIVE=0 / =1: never / always
    expect(decide({ OPENCODE_OAUTH_INTERACTIVE: '0', BROWSER: 'firefox' }, 'tui', tty)).toBe('disabled');
    expect(decide({ OPENCODE_OAUTH_INTERACTIVE: 'no' }, 'tui', tty)).toBe('disabled');
    expect(decide({ OPENCODE_OAUTH_INTERACTIVE: '1', CI: 'true' })).toBe('forced');
    expect(loginDecision({ env: { OPENCODE_OAUTH_INTERACTIVE: 'yes', GITHUB_ACTIONS: 'true' }, surface: 'terminal', tty: none }).allowed).toBe(true);
  });

  it('a refusal names the provider and the exact command, and in CI says to use a machine flow', () => {
    const provider = { id: 'corp', name: 'Corp AI', flow: 'device_code' };
    const command = 'run `opencode auth login`, pick "Corp AI" and "Device code login" (or `opencode providers login -p corp -m "Device code login"`)';
    const ci = refusalMessage(provider, 'Device code login', { allowed: false, because: 'ci', ciVariable: 'GITHUB_ACTIONS' });
    expect(ci).toBe(
      `[corp] not logged in to Corp AI — GITHUB_ACTIONS is set, and CI cannot answer a device_code login: use a machine flow here (client_credentials, jwt_bearer or token_exchange); on a workstation ${command}`,
    );
    expect(refusalMessage(provider, 'Device code login', { allowed: false, because: 'disabled' })).toBe(
      `[corp] not logged in to Corp AI — ${command} (OPENCODE_OAUTH_INTERACTIVE=0 keeps requests from starting a login)`,
    );
    expect(refusalMessage(provider, 'Device code login', { allowed: false, because: 'nobody' })).toContain(`[corp] not logged in to Corp AI — ${command}`);
  });

  it('headless: a login is plain stderr lines, each thing once, and no toast', async () => {
    const { client, toasts } = fakeClient();
    const written: string[] = [];
    const surface = createUserSurface({ client, surface: 'terminal', writeStderr: (t) => written.push(t) });
    surface.showLogin({ providerId: 'corp', kind: 'device_code', text: 'To log in to corp, visit https://idp/device and enter the code ABCD-EFGH (valid until 1:11:38 AM).', url: 'https://idp/device?user_code=ABCD-EFGH', userCode: 'ABCD-EFGH', expiresAt: 1_000 });
    surface.loginSucceeded('corp', 'Corp AI');
    expect(written.join('')).toBe(
      '[opencode-oauth-machines] corp: To log in to corp, visit https://idp/device and enter the code ABCD-EFGH (valid until 1:11:38 AM).\n' +
        '  https://idp/device?user_code=ABCD-EFGH\n[opencode-oauth-machines] Logged in to Corp AI\n',
    );
    expect(written.join('')).not.toMatch(/\u001b\[/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(toasts).toEqual([]);
  });

  it('TUI: nothing on stderr; one toast that says each thing once, lasts while the login waits, then "Logged in to <name>" or the error', async () => {
    const { client, toasts } = fakeClient();
    const written: string[] = [];
    const now = 10_000;
    const surface = createUserSurface({ client, surface: 'tui', writeStderr: (t) => written.push(t), now: () => now });
    const text = 'To log in to corp, visit https://idp/device and enter the code ABCD-EFGH (valid until 1:11:38 AM).';
    surface.showLogin({ providerId: 'corp', kind: 'device_code', text, url: 'https://idp/device', userCode: 'ABCD-EFGH', expiresAt: now + 600_000 });
    surface.loginSucceeded('corp', 'Corp AI');
    // a second login that fails; a browser login sends its URL, then "waiting until …"
    surface.showLogin({ providerId: 'web', kind: 'browser', text: 'Open this URL in a browser to log in to web:', url: 'https://idp/auth?x=1' });
    surface.showLogin({ providerId: 'web', kind: 'info', text: 'Log in to web in the browser; waiting until 1:20 AM.', expiresAt: now + 300_000 });
    surface.loginFailed('web', 'access_denied: the user said no');
    // a result with no login toast up shows nothing
    surface.loginSucceeded('corp', 'Corp AI');
    surface.loginFailed('corp', 'late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([]);
    expect(toasts.map(({ message, variant }) => [variant, message])).toEqual([
      ['info', text],
      ['success', 'Logged in to Corp AI'],
      ['info', 'Open this URL in a browser to log in to web:\nhttps://idp/auth?x=1'],
      ['info', 'Open this URL in a browser to log in to web:\nhttps://idp/auth?x=1\nLog in to web in the browser; waiting until 1:20 AM.'],
      ['error', 'access_denied: the user said no'],
    ]);
    expect(toasts[0]!.message.match(/until/g)).toHaveLength(1);
    const durations = (toasts as Array<{ duration?: number }>).map((t) => t.duration);
    expect(durations[0]).toBe(600_000);
    expect(durations[2]).toBeGreaterThanOrEqual(600_000);
    expect(durations[3]).toBe(300_000);
  });

  it('stand-in models: the ones opencode.json names for the provider, else one that says to log in; declared models untouched', () => {
    const provider = { id: 'corp', name: 'Corp AI' };
    const base = { declared: {}, configModels: [], requested: undefined, userFlow: true };
    expect(standInModels(provider, base)).toEqual({ login: { name: 'Log in to Corp AI with /connect' } });
    expect(standInModels(provider, { ...base, userFlow: false })).toEqual({});
    expect(standInModels(provider, { ...base, configModels: ['corp/glm-5', 'other/x', 'corp/glm-5-mini'] })).toEqual({
      'glm-5': { name: 'GLM 5' },
      'glm-5-mini': { name: 'GLM 5 Mini' },
    });
    expect(standInModels(provider, { ...base, requested: { providerId: 'corp', modelId: 'qwen' } })).toEqual({ qwen: { name: 'Qwen' } });
    expect(standInModels(provider, { ...base, declared: { mine: { name: 'Mine' } } })).toEqual({});
    expect(standInModels(provider, { ...base, declared: { mine: {} }, configModels: ['corp/mine'] })).toEqual({});
    // a second run of the config hook on the same object tells our entries from the user's
    const added = standInModels(provider, base);
    expect(withoutStandIns({ ...added, mine: { name: 'Mine' } })).toEqual({ mine: { name: 'Mine' } });
  });

  it('logs through client.app.log with the plugin prefix, redacted, filtered by level, never throwing', async () => {
    const { client, logs } = fakeClient();
    const logger = createPluginLogger(client, 'info');
    logger.debug('dropped', {});
    logger.info('token_renewed', { providerId: 'corp', accessToken: 'at-0123456789abcdefABCDEF', note: 'Bearer abc.def-123_XYZxyz' });
    logger.setClient({ app: { log: async () => Promise.reject(new Error('server gone')) } });
    logger.error('still_fine', {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs).toEqual([
      {
        service: 'opencode-oauth-machines',
        level: 'info',
        message: 'opencode-oauth-machines: token_renewed',
        extra: { providerId: 'corp', accessToken: '[redacted]', note: 'Bearer [redacted]' },
      },
    ]);
  });
});

describe('tool guard', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'guard-'));
    await mkdir(join(root, 'tokens'));
    await mkdir(join(root, 'k8s', '..2024'), { recursive: true });
    await writeFile(join(root, 'k8s', '..2024', 'token'), 'x');
    await symlink(join(root, 'k8s', '..2024', 'token'), join(root, 'k8s', 'token'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const guarded = () => {
    const parsed = parseOpenCodeConfig({
      provider: {
        ci: {
          options: {
            baseURL: 'http://127.0.0.1:9/v1',
            oauth2: {
              issuer: 'http://127.0.0.1:9',
              clientId: 'c',
              scopes: ['a'],
              authFlow: 'token_exchange',
              subjectTokenSource: { type: 'kubernetes_sa', tokenPath: join(root, 'k8s', 'token') },
              privateKey: { file: '~/.config/corp/key.json' },
              clientAuthMethod: 'private_key_jwt',
            },
          },
        },
        fed: {
          options: {
            baseURL: 'http://127.0.0.1:9/v1',
            oauth2: {
              issuer: 'http://127.0.0.1:9',
              clientId: 'c',
              scopes: ['a'],
              authFlow: 'client_credentials',
              clientAssertionSource: { type: 'file', path: join(root, 'federated', 'token') },
            },
          },
        },
      },
    });
    expect(parsed.errors).toEqual([]);
    return protectedPaths({ storeDir: join(root, 'tokens'), providers: parsed.providers });
  };

  it('refuses paths, commands, patches and file URLs that reach a protected path, in any spelling', () => {
    const paths = guarded();
    const home = os.homedir();
    const refused = (tool: string, args: unknown) => findProtectedAccess(tool, args, paths, root)?.what;
    expect(refused('read', { filePath: 'tokens/corp-abc.json' })).toBe('the OAuth token store');
    expect(refused('write', { filePath: join(root, 'tokens', 'x'), content: 'y' })).toBe('the OAuth token store');
    expect(refused('read', { filePath: join(root, 'k8s', '..2024', 'token') })).toBe('the service-account token of ci');
    expect(refused('bash', { command: `base64 < ${join(root, 'k8s', 'token')}` })).toBe('the service-account token of ci');
    expect(refused('bash', { command: 'cat ~/.config/corp/key.json' })).toBe('the private key of ci');
    expect(refused('bash', { command: 'cat $HOME/.config/corp/key.json' })).toBe('the private key of ci');
    expect(refused('read', { filePath: join(home, '.config/corp/key.json') })).toBe('the private key of ci');
    // A federated client assertion's file (an Entra-style AZURE_FEDERATED_TOKEN_FILE) is a credential too.
    expect(refused('read', { filePath: join(root, 'federated', 'token') })).toBe('the subject token file of fed');
    expect(refused('webfetch', { url: `file://${join(root, 'tokens', 'a.json')}` })).toBe('the OAuth token store');
    expect(refused('patch', { patchText: `*** Begin Patch\n*** Update File: ${join(root, 'tokens', 'a.json')}\n` })).toBe('the OAuth token store');
    expect(refused('glob', { pattern: '**/*.json', path: root })).toBe('the OAuth token store');
    // Allowed: the project, a sibling with a similar name, a single file above the store.
    expect(refused('read', { filePath: join(root, 'tokens-notes.md') })).toBeUndefined();
    expect(refused('read', { filePath: root })).toBeUndefined();
    // No exemption for `/` (issue 10.1): a tree walk from the root reaches the store.
    expect(refused('glob', { pattern: '**/*.ts', path: '/' })).toBe('the OAuth token store');
    expect(refused('bash', { command: 'npm test' })).toBeUndefined();
  });
});

describe('secrets kept out of the resolved config', () => {
  it('strips clientSecret and privateKey and restores them for a second run of the hook on the same object', () => {
    const config: OpenCodeConfig = {
      provider: { corp: { options: { baseURL: 'http://h/v1', oauth2: { clientId: 'c', clientSecret: 's3cret-value', scopes: 'a' } } } },
    };
    const options = { servers: [{ id: 'b', clientSecret: 'other-s3cret', privateKey: { kty: 'EC', d: 'dd' } }] };
    const stash = new SecretStash();
    stash.strip(config, options);
    expect(JSON.stringify([config, options])).not.toMatch(/s3cret|"d"/);
    stash.restore(config, options);
    expect((config.provider!.corp!.options!.oauth2 as Record<string, unknown>).clientSecret).toBe('s3cret-value');
    expect(options.servers[0]).toEqual({ id: 'b', clientSecret: 'other-s3cret', privateKey: { kty: 'EC', d: 'dd' } });
    // A value the user set again wins over the stashed one.
    stash.strip(config, options);
    (config.provider!.corp!.options!.oauth2 as Record<string, unknown>).clientSecret = 'rotated';
    stash.restore(config, options);
    expect((config.provider!.corp!.options!.oauth2 as Record<string, unknown>).clientSecret).toBe('rotated');
  });
});

describe('config hook robustness', () => {
  it('never throws: a failure to set up is logged and shown, OpenCode goes on', async () => {
    const h = await loadPlugin({
      deps: {
        storeDirFor: () => {
          throw new Error('no cache dir');
        },
      },
    });
    try {
      const config: OpenCodeConfig = {
        provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: { issuer: 'http://127.0.0.1:9', clientId: 'c', scopes: 'a' } } } },
      };
      await expect(h.hooks.config!(config)).resolves.toBeUndefined();
      expect(h.logs.find((l) => l.message.endsWith('config_hook_failed'))?.extra).toEqual({ message: 'no cache dir' });
      expect(h.stderr.join('')).toContain('the OAuth providers could not be set up: no cache dir');
    } finally {
      await h.cleanup();
    }
  });
});

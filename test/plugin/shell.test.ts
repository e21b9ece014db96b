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
  mayStartInteractiveLogin,
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

  it('starts an interactive login from a request only with a human around, never in CI unless forced', () => {
    const tty = { stdin: true, stderr: true };
    const none = { stdin: false, stderr: false };
    expect(mayStartInteractiveLogin({}, tty)).toBe(true);
    expect(mayStartInteractiveLogin({}, { stdin: false, stderr: true })).toBe(true);
    expect(mayStartInteractiveLogin({}, none)).toBe(false);
    expect(mayStartInteractiveLogin({ CI: 'true' }, tty)).toBe(false);
    expect(mayStartInteractiveLogin({ OPENCODE_OAUTH_INTERACTIVE: '0' }, tty)).toBe(false);
    expect(mayStartInteractiveLogin({ OPENCODE_OAUTH_INTERACTIVE: '1', CI: 'true' }, none)).toBe(true);
  });

  it('prints a login on stderr as plain text and also toasts it, in any surface', async () => {
    const { client, toasts } = fakeClient();
    const written: string[] = [];
    const surface = createUserSurface({ client, surface: 'tui', writeStderr: (t) => written.push(t) });
    surface.showLogin({ providerId: 'corp', kind: 'device_code', text: 'To log in to corp, visit https://idp/device and enter the code ABCD-EFGH.', url: 'https://idp/device?user_code=ABCD-EFGH', userCode: 'ABCD-EFGH' });
    expect(written.join('')).toBe(
      '[opencode-oauth-machines] corp: To log in to corp, visit https://idp/device and enter the code ABCD-EFGH.\n  open: https://idp/device?user_code=ABCD-EFGH\n',
    );
    expect(written.join('')).not.toMatch(/\u001b\[/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(toasts).toHaveLength(1);
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

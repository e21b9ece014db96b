import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecretFiles, createToolGuard, findProtectedAccess, protectedPaths, type ProtectedPath } from '../../src/plugin/toolGuard.js';

/**
 * The red-team commands of issue 10 against a real file tree: a home with the default store
 * (`~/.cache/opencode-oauth-machines/tokens`), a project with a symlink into it, a `{file:…}` secret and
 * `~/.secrets/`. Every one of them got through the guard of 661bc6b.
 */

let root: string;
let home: string;
let project: string;
let store: string;
let guarded: ProtectedPath[];
let env: Record<string, string>;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'guard-'));
  home = path.join(root, 'home');
  project = path.join(home, 'work', 'project');
  store = path.join(home, '.cache', 'opencode-oauth-machines', 'tokens');
  mkdirSync(store, { recursive: true });
  mkdirSync(project, { recursive: true });
  mkdirSync(path.join(home, '.secrets'), { recursive: true });
  writeFileSync(path.join(store, 'svc-0123456789ab.json'), '{"token":{"accessToken":"x"}}');
  writeFileSync(path.join(home, '.secrets', 'oci.pem'), 'KEY');
  writeFileSync(path.join(project, 'client-secret.txt'), 's3cr3t');
  writeFileSync(path.join(project, 'README.md'), 'hello');
  symlinkSync(path.join(home, '.cache', 'opencode-oauth-machines'), path.join(project, 'innocent'));
  symlinkSync(path.join(home, '.cache'), path.join(project, 'cachelink'));
  writeFileSync(
    path.join(project, 'opencode.json'),
    JSON.stringify({
      agent: { build: { prompt: '{file:./prompts/build.txt}' } },
      provider: { svc: { options: { oauth2: { clientSecret: '{file:./client-secret.txt}' } } } },
    }),
  );
  env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), XDG_CONFIG_HOME: path.join(home, '.config') };
  guarded = protectedPaths({ storeDir: store, providers: [], home });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const check = (tool: string, args: unknown, extra: ProtectedPath[] = []) =>
  findProtectedAccess(tool, args, [...guarded, ...extra], { directory: project, env });

describe('the tool guard (issue 10.1)', () => {
  it.each([
    ['bash', { command: 'cd ~/.cache/opencode-oauth-machines && cat tokens/*' }],
    ['bash', { command: 'cat ~/.cache/opencode-oauth-machines/tok*/*' }],
    ['bash', { command: 'cat $XDG_CACHE_HOME/opencode-oauth-machines/tokens/svc-0123456789ab.json' }],
    ['bash', { command: 'cat ${XDG_CACHE_HOME}/*/tokens/*' }],
    ['bash', { command: 'cat ../../.cache/opencode-oauth-machines/tokens/svc-0123456789ab.json' }],
    ['bash', { command: 'cat ../../.cache/opencode-oauth*/t*/*' }],
    ['bash', { command: 'grep -rh accessToken ~/.cache' }],
    ['bash', { command: 'grep -rh accessToken cachelink' }],
    ['bash', { command: 'find ~ -name "*.json" -exec cat {} +' }],
    ['bash', { command: 'base64 innocent/tokens/*' }],
    ['bash', { command: 'cd ~/.cache && cat */tokens/*' }],
    ['read', { filePath: 'innocent/tokens/svc-0123456789ab.json' }],
    ['read', { filePath: 'cachelink/opencode-oauth-machines/tokens/svc-0123456789ab.json' }],
    ['grep', { pattern: 'accessToken', path: '/' }],
    ['glob', { pattern: '**/tokens/*.json', path: '/' }],
    ['grep', { pattern: 'accessToken', path: '~' }],
    ['list', { path: '../..' }],
    ['bash', { command: 'cat ~/.secrets/oci.pem' }],
    ['bash', { command: 'cd ~/.cache; cd opencode-oauth-machines; cat tokens/*' }],
    ['bash', { command: 'cat "$(echo ~)"/.cache/opencode-oauth-machines/tokens/x' }],
    ['bash', { command: 'd=$(ls ~/.cache); cat ~/.cache/$d/opencode-oauth-machines/tokens/x' }],
    ['read', { filePath: '~/.secrets/oci.pem' }],
  ])('%s %j is refused', (tool, args) => {
    expect(check(tool, args)?.what).toBeDefined();
  });

  it('refuses a secret file named through {file:…} in the raw opencode.json, found by reading it', async () => {
    const fromConfig = await configSecretFiles({ directory: project, env, home });
    expect(fromConfig.map((entry) => entry.path)).toContain(path.join(project, 'client-secret.txt'));
    // A prompt file is the agent's own reading, not a secret.
    expect(fromConfig.map((entry) => entry.path)).not.toContain(path.join(project, 'prompts', 'build.txt'));
    expect(check('read', { filePath: 'client-secret.txt' }, fromConfig)?.what).toBe('a secret file named in opencode.json');
    expect(check('bash', { command: 'cat ./client-secret.txt | base64' }, fromConfig)?.what).toBe('a secret file named in opencode.json');
    // createToolGuard is what the plugin calls: it reads the config itself.
    const guard = createToolGuard(env);
    expect((await guard('read', { filePath: 'client-secret.txt' }, guarded, project))?.what).toBe('a secret file named in opencode.json');
  });

  it.each([
    ['read', { filePath: 'README.md' }],
    ['bash', { command: 'ls -la && cat README.md' }],
    ['bash', { command: 'grep -r hello .' }],
    ['grep', { pattern: 'hello', path: '.' }],
    ['glob', { pattern: '**/*.md' }],
    ['bash', { command: 'cat ~/.cache/other-app/config.json' }],
    ['bash', { command: 'echo opencode-oauth-machinesX' }],
    ['bash', { command: 'grep -rn opencode-oauth-machines src README.md' }],
    ['bash', { command: 'npm view opencode-oauth-machines version' }],
    ['read', { filePath: 'node_modules/opencode-oauth-machines/package.json' }],
  ])('%s %j is allowed', (tool, args) => {
    expect(check(tool, args)).toBeUndefined();
  });

  it('does not refuse the app name inside the project directory itself (a checkout of this repository)', () => {
    const checkout = path.join(root, 'src', 'opencode-oauth-machines');
    mkdirSync(checkout, { recursive: true });
    expect(findProtectedAccess('read', { filePath: path.join(checkout, 'README.md') }, guarded, { directory: checkout, env })).toBeUndefined();
    expect(findProtectedAccess('bash', { command: 'cat ~/.cache/opencode-oauth-machines/tokens/x' }, guarded, { directory: checkout, env })).toBeDefined();
  });
});

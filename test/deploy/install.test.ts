/**
 * Walks docs/install.md: the three ways to load the plugin before it is on the registry (a packed tarball, a
 * git spec, a `file://` entry), each loaded by the real OpenCode CLI against the lab, with OpenCode's own
 * embedded npm doing the install from a registry on 127.0.0.1. Also: the package ships every file its docs link.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, answerText, isolatedEnv, runOpencode, startLab, stateDirs, writeProject } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { describeRun, tempRoot } from '../e2e/harness.js';
import { startLocalRegistry, type LocalRegistry } from './support/localRegistry.js';
import { markdownLinks } from './support/markdown.js';

const PKG = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};
const TEST_TIMEOUT_MS = 120_000;

let lab: E2eLab;
let registry: LocalRegistry;
let tarball: string;
let packedFiles: string[];
const root = tempRoot('install');

beforeAll(async () => {
  const out = root.dir('pack');
  mkdirSync(out, { recursive: true });
  // The documented command; --ignore-scripts keeps it to packing (dist/ is built by `npm test`'s pretest).
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(out, info!.filename);
  packedFiles = info!.files.map((file) => file.path);
  registry = await startLocalRegistry(REPO_ROOT, Object.keys(PKG.dependencies), root.dir('registry'));
  lab = await startLab({ models: ['lab-model'] });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([lab?.stop(), registry?.stop()]);
  root.remove();
});

/** One isolated OpenCode whose embedded npm may reach only the local registry; runs a client_credentials chat. */
async function chatWith(name: string, pluginSpec: string) {
  const stateDir = root.dir(`${name}/state`);
  const projectDir = root.dir(`${name}/project`);
  const env = isolatedEnv(stateDir, {
    CORP_CLIENT_SECRET: lab.idp.clients.post.client_secret,
    npm_config_registry: registry.url,
    npm_config_cache: root.dir(`${name}/npm-cache`),
  });
  writeProject(projectDir, {
    plugin: [pluginSpec],
    provider: {
      corp: {
        name: 'Corp AI',
        options: {
          baseURL: lab.gateway.baseURL,
          oauth2: {
            issuer: lab.idp.issuer,
            clientId: lab.idp.clients.post.client_id,
            clientSecret: '{env:CORP_CLIENT_SECRET}',
            authFlow: 'client_credentials',
            scopes: ['api:read'],
          },
        },
      },
    },
  });
  const result = await runOpencode({
    cwd: projectDir,
    env,
    args: ['run', '--format', 'json', '--model', 'corp/lab-model', 'hello'],
    timeoutMs: 90_000,
    stateDir,
  });
  return { result, dirs: stateDirs(stateDir) };
}

/** Where OpenCode's embedded npm put an npm-spec plugin. */
function installedPackageJson(cacheDir: string, spec: string) {
  return path.join(cacheDir, 'opencode', 'packages', spec, 'node_modules', PKG.name, 'package.json');
}

describe('install (docs/install.md)', () => {
  it('the tarball ships everything README.md and docs/ link to', () => {
    const shipped = new Set(packedFiles);
    const docs = packedFiles.filter((file) => file.endsWith('.md'));
    expect(docs).toContain('README.md');
    expect(docs).toContain('docs/install.md');
    const missing: string[] = [];
    for (const doc of docs) {
      for (const link of markdownLinks(readFileSync(path.join(REPO_ROOT, doc), 'utf8'))) {
        if (/^[a-z]+:/i.test(link) || link.startsWith('#')) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(doc), link.split('#')[0]!));
        const found = shipped.has(target) || packedFiles.some((file) => file.startsWith(`${target.replace(/\/$/, '')}/`));
        if (!found) missing.push(`${doc} → ${link}`);
      }
    }
    expect(missing).toEqual([]);
    expect(packedFiles.some((file) => file.startsWith('test/') || file.startsWith('src/'))).toBe(false);
  });

  it('a packed tarball: "opencode-oauth-machines@file:<tgz>", installed by OpenCode itself', async () => {
    const spec = `${PKG.name}@file:${tarball}`;
    const { result, dirs } = await chatWith('tarball', spec);
    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain('Hello from the lab gateway (model lab-model)');
    expect(existsSync(installedPackageJson(dirs.cache, spec))).toBe(true);
    // The dependencies came from the registry OpenCode was pointed at (here: 127.0.0.1).
    expect(registry.served).toEqual(expect.arrayContaining(Object.keys(PKG.dependencies)));
  }, TEST_TIMEOUT_MS);

  it('a git spec of a release ref that carries dist/: "opencode-oauth-machines@git+file://…#v<version>"', async () => {
    // A release ref as docs/install.md describes it: the packed files committed and tagged.
    const repo = root.dir('git-release');
    mkdirSync(repo, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', repo, '--strip-components=1']);
    // npm prepares a git dependency that has a build-like script by installing its devDependencies first.
    execFileSync('npm', ['pkg', 'delete', 'scripts'], { cwd: repo });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=release', '-c', 'user.email=release@example.invalid', ...args], { cwd: repo });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', `release ${PKG.version}`);
    git('tag', `v${PKG.version}`);
    const spec = `${PKG.name}@git+file://${repo}#v${PKG.version}`;
    const { result, dirs } = await chatWith('git', spec);
    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain('Hello from the lab gateway (model lab-model)');
    expect(existsSync(installedPackageJson(dirs.cache, spec))).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('a file:// entry to a directory installed with npm (no install at OpenCode start-up)', async () => {
    const prefix = root.dir('opencode-plugins');
    mkdirSync(prefix, { recursive: true });
    writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    // Async: the registry answering npm lives in this process.
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {
      cwd: prefix,
      env: { ...process.env, npm_config_registry: registry.url, npm_config_cache: root.dir('npm-cache-file') },
      timeout: 60_000,
    });
    const installed = path.join(prefix, 'node_modules', PKG.name);
    expect(readdirSync(path.join(installed, 'dist'))).toContain('index.mjs');
    const { result, dirs } = await chatWith('file-url', `file://${installed}`);
    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain('Hello from the lab gateway (model lab-model)');
    // Nothing went through OpenCode's package cache.
    expect(existsSync(path.join(dirs.cache, 'opencode', 'packages'))).toBe(false);
  }, TEST_TIMEOUT_MS);

  it('copying the built dist/ elsewhere and naming its entry file works too', async () => {
    const copy = root.dir('dist-copy');
    cpSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'), {
      recursive: true,
      filter: (source) => {
        const rel = path.relative(path.join(REPO_ROOT, 'node_modules'), source);
        const top = rel.split(path.sep)[0]!;
        return rel === '' || Object.keys(PKG.dependencies).includes(top);
      },
    });
    cpSync(path.join(REPO_ROOT, 'dist'), path.join(copy, 'plugin'), { recursive: true });
    const { result } = await chatWith('file-entry', `file://${path.join(copy, 'plugin', 'index.mjs')}`);
    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain('Hello from the lab gateway (model lab-model)');
  }, TEST_TIMEOUT_MS);
});

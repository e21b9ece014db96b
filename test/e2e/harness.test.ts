/**
 * The harness itself: the pieces the scenarios rely on must be able to fail (a sweep that finds nothing
 * because it looks nowhere proves nothing; a deadline that leaves the process group behind leaks processes).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isolatedEnv,
  logsSince,
  logSnapshot,
  opencodeBinary,
  runOpencode,
  SecretCollector,
  stateDirs,
  writeProject,
} from '../../scripts/e2e-support/index.mjs';
import { tempRoot, waitUntil } from './harness.js';

const root = tempRoot('harness');
afterAll(() => root.remove());

describe('e2e harness', () => {
  it('finds the real OpenCode binary of the opencode-ai dev dependency', () => {
    const bin = opencodeBinary();
    expect(bin).toMatch(/opencode-[a-z0-9]+-[a-z0-9]+(-baseline)?(-musl)?\/bin\/opencode(\.exe)?$/);
    expect(existsSync(bin)).toBe(true);
  });

  it('isolates every OpenCode dir under the state dir and pre-seeds the config dir (no npm install)', () => {
    const state = root.dir('iso');
    const env = isolatedEnv(state, { EXTRA: 'x', npm_config_registry: undefined });
    const dirs = stateDirs(state);
    for (const key of ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'TMPDIR']) {
      expect(env[key]?.startsWith(dirs.root + path.sep), key).toBe(true);
    }
    expect(env.OPENCODE_DISABLE_AUTOUPDATE).toBe('1');
    expect(env.OPENCODE_DISABLE_MODELS_FETCH).toBe('1');
    expect(env.npm_config_fetch_retries).toBe('0');
    expect(env.EXTRA).toBe('x');
    expect('npm_config_registry' in env).toBe(false);
    expect(env.PATH?.split(path.delimiter)).toContain(path.dirname(process.execPath));
    expect(existsSync(path.join(dirs.opencodeConfig, 'node_modules'))).toBe(true);
    const lock = JSON.parse(readFileSync(path.join(dirs.opencodeConfig, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].dependencies['@opencode-ai/plugin']).toBeDefined();
  });

  it('writes opencode.json with $schema first', () => {
    const file = writeProject(root.dir('proj'), { provider: {} });
    const text = readFileSync(file, 'utf8');
    expect(Object.keys(JSON.parse(text))[0]).toBe('$schema');
  });

  it('kills the whole process group at the deadline', async () => {
    const pidFile = root.dir('grandchild.pid');
    // a child that starts a grandchild and both sleep: the deadline must take both down
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
      setTimeout(() => {}, 60000);`;
    const result = await runOpencode({
      bin: process.execPath,
      cwd: root.root,
      env: { PATH: process.env.PATH ?? '' },
      args: ['-e', script],
      timeoutMs: 1500,
    });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBeNull();
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil(() => !alive(grandchild), 5000, 'the grandchild to be killed');
  });

  it('reads only the log lines a run appended', () => {
    const state = root.dir('logs');
    const logDir = stateDirs(state).logDir;
    mkdirSync(logDir, { recursive: true });
    writeFileSync(path.join(logDir, 'opencode.log'), 'run=1 old\n');
    const before = logSnapshot(state);
    writeFileSync(path.join(logDir, 'opencode.log'), 'run=1 old\nrun=2 new\n');
    expect(logsSince(state, before)).toBe('run=2 new\n');
  });

  it('the sweep finds a planted token, client secret and CI JWT by issuer, and names no value', () => {
    const secrets = new SecretCollector();
    const token = 'tok_' + 'A'.repeat(40);
    secrets.add('access_token', token);
    secrets.add('client_secret:basic', 'cs_' + 'B'.repeat(30));
    secrets.jwtIssuers.add('http://127.0.0.1:1234');
    const payload = Buffer.from(JSON.stringify({ iss: 'http://127.0.0.1:1234', sub: 'repo:x' })).toString('base64url');
    const jwt = `eyJhbGciOiJFUzI1NiJ9.${payload}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
    const dir = root.dir('sweep');
    mkdirSync(path.join(dir, 'store'), { recursive: true });
    writeFileSync(path.join(dir, 'log.txt'), `Authorization: Bearer ${token}\n`);
    writeFileSync(path.join(dir, 'store', 'record.json'), JSON.stringify({ token }));
    const findings = secrets.sweep({
      texts: { stderr: `assertion=${jwt}`, stdout: 'clean' },
      paths: [dir],
      exclude: [path.join(dir, 'store')],
    });
    expect(findings).toEqual([
      { kind: 'ci_jwt', where: 'stderr' },
      { kind: 'access_token', where: path.join(dir, 'log.txt') },
    ]);
    expect(JSON.stringify(findings)).not.toContain(token);
    expect(secrets.sweep({ texts: { x: 'cs_' + 'B'.repeat(30) } })).toEqual([{ kind: 'client_secret:basic', where: 'x' }]);
  });
});

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

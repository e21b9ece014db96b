/**
 * Packaging (needs `npm run build`): the plugin entry never pulls in gateway code or its dependencies, and
 * the `opencode-oauth-gateway` bin starts the Node host from env vars and answers /healthz.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { GATEWAY_CONFIG_JSON_SCHEMA } from '../../src/gateway/index.js';
import { call, UPSTREAM_KEY, useCiAndUpstream } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIST = path.join(ROOT, 'dist');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const GATEWAY_ONLY = ['hono', '@hono/node-server', 'ioredis'];

/** Every module a dist file reaches through static and dynamic imports: relative files and bare packages. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    // Comments dropped first: bundled libraries carry `import … from './x.ts'` in their doc examples.
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const match of source.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)["']([^"']+)["']/g)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('packaging', () => {
  it('dist/index.mjs (the plugin) reaches no gateway module and no gateway-only package', () => {
    expect(existsSync(path.join(DIST, 'index.mjs')), 'run npm run build first').toBe(true);
    const plugin = importGraph(path.join(DIST, 'index.mjs'));
    const gateway = importGraph(path.join(DIST, 'gateway.mjs'));
    // The check can fail: the gateway entry itself does reach them.
    expect([...gateway.packages]).toEqual(expect.arrayContaining(GATEWAY_ONLY));
    // The scan sees the plugin's own lazy imports, so a miss below is not a blind spot.
    expect([...plugin.packages]).toEqual(expect.arrayContaining(['ky', 'jose']));
    for (const name of GATEWAY_ONLY) expect(plugin.packages.has(name), name).toBe(false);
    const gatewayFiles = [...gateway.files].filter((f) => readFileSync(f, 'utf8').includes('Token issuer unavailable'));
    expect(gatewayFiles.length).toBeGreaterThan(0);
    for (const file of gatewayFiles) expect(plugin.files.has(file), path.basename(file)).toBe(false);
  });

  it('the Workers entry reaches neither the Node host, Redis nor the token engine', () => {
    const workers = importGraph(path.join(DIST, 'gateway-workers.mjs'));
    expect(workers.packages.has('hono')).toBe(true);
    for (const name of ['@hono/node-server', 'ioredis', 'xstate', 'node:fs', 'node:http']) expect(workers.packages.has(name), name).toBe(false);
  });

  it('gateway dependencies are optional peers (exact versions for development), with their own entry and bin', () => {
    for (const name of GATEWAY_ONLY) {
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.devDependencies[name]).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(pkg.exports['./gateway']).toEqual({ types: './dist/gateway.d.mts', import: './dist/gateway.mjs' });
    expect(pkg.bin['opencode-oauth-gateway']).toBe('./bin/opencode-oauth-gateway.mjs');
    expect(pkg.files).toContain('bin');
  });
});

describe('the opencode-oauth-gateway bin', () => {
  const lab = useCiAndUpstream();

  it('--print-schema prints the config file JSON Schema', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/opencode-oauth-gateway.mjs'), '--print-schema'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(GATEWAY_CONFIG_JSON_SCHEMA);
  });

  it('starts from env vars, answers /healthz, proxies a CI token, stops on SIGTERM; a bad env names the variable', async () => {
    const env = {
      PATH: process.env.PATH,
      OIDC_ISSUER: lab.ci.issuer,
      OIDC_AUDIENCE: 'bin-aud',
      UPSTREAM_URL: lab.upstream.url,
      UPSTREAM_AUTH_HEADER: 'Authorization',
      UPSTREAM_AUTH_PREFIX: 'Bearer ',
      UPSTREAM_API_KEY: UPSTREAM_KEY,
      PORT: '0',
      HOST: '127.0.0.1',
    };
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/opencode-oauth-gateway.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const lines = createInterface({ input: child.stdout });
      const listening = await new Promise<{ url: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no listening line in 15 s')), 15_000);
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { msg: string; url: string };
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            resolve(entry);
          }
        });
      });
      expect((await fetch(`${listening.url}/healthz`)).status).toBe(200);
      const res = await call(listening.url, await lab.ci.mint({ aud: 'bin-aud' }));
      expect(res.status).toBe(200);
      expect(lab.upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    const bad = spawn(process.execPath, [path.join(ROOT, 'bin/opencode-oauth-gateway.mjs')], { env: { ...env, UPSTREAM_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => bad.once('exit', resolve))).toBe(1);
    expect(err).toContain('UPSTREAM_URL is required');
    expect(err).not.toContain(UPSTREAM_KEY);
  });
});

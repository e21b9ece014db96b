import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, UnsecuredJWT } from 'jose';
import {
  commandSource,
  createSubjectTokenSource,
  envSource,
  fileSource,
  githubActionsSource,
  kubernetesServiceAccountSource,
  readJwtExpiry,
  urlSource,
} from '../../src/adapters/subject-token/index.js';

const ctx = { providerId: 'ci' };
let dir: string;
let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'subject-'));
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function errorOf(promise: Promise<unknown>): Promise<Error & { code: string; fix?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected a rejection');
}

describe('readJwtExpiry', () => {
  it('reads exp without verifying; opaque tokens and JWTs without exp give undefined', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setExpirationTime(2_000_000_000).sign(privateKey);
    expect(readJwtExpiry(jwt)).toBe(2_000_000_000_000);
    expect(readJwtExpiry(new UnsecuredJWT({}).encode())).toBeUndefined();
    expect(readJwtExpiry('opaque-token')).toBeUndefined();
  });
});

describe('file and kubernetes_sa sources', () => {
  it('reads and trims on every call (no caching)', async () => {
    const path = join(dir, 'token');
    await writeFile(path, '  first\n');
    const source = fileSource({ path });
    expect(await source.read(ctx)).toBe('first');
    await writeFile(path, 'second\n');
    expect(await source.read(ctx)).toBe('second');
    expect(source.describe()).toBe(`file ${path}`);
  });

  it('missing, empty, directory, oversized: errors name the source, the path and the fix', async () => {
    const missing = await errorOf(fileSource({ path: join(dir, 'nope') }).read(ctx));
    expect(missing).toMatchObject({ code: 'subject_token', providerId: 'ci' });
    expect(missing.message).toContain(`subjectTokenSource (file): no file at ${join(dir, 'nope')}`);
    expect(missing.message).toContain('mount');
    await writeFile(join(dir, 'empty'), '\n');
    expect((await errorOf(fileSource({ path: join(dir, 'empty') }).read(ctx))).message).toContain('is empty');
    expect((await errorOf(fileSource({ path: dir }).read(ctx))).message).toContain('is not a regular file');
    await writeFile(join(dir, 'big'), 'x'.repeat(64 * 1024 + 1));
    expect((await errorOf(fileSource({ path: join(dir, 'big') }).read(ctx))).message).toContain('larger than 64 KiB');
  });

  it('kubernetes_sa defaults to the reference path and names it', async () => {
    const error = await errorOf(kubernetesServiceAccountSource().read(ctx));
    expect(error.message).toContain('subjectTokenSource (kubernetes_sa): no file at /var/run/secrets/tokens/oauth2/token');
  });

  it('survives a kubelet-style atomic symlink swap, including a read that falls in the gap', async () => {
    // kubelet layout: token -> ..data/token, ..data -> ..<timestamp>/
    const vol = join(dir, 'projected');
    await mkdir(join(vol, '..2024_01'), { recursive: true });
    await writeFile(join(vol, '..2024_01', 'token'), 'jwt-one');
    await symlink('..2024_01', join(vol, '..data'));
    await symlink('..data/token', join(vol, 'token'));
    const source = kubernetesServiceAccountSource({ tokenPath: join(vol, 'token') });
    expect(await source.read(ctx)).toBe('jwt-one');

    // The atomic swap: new dir, temp link, rename over ..data, old dir removed.
    await mkdir(join(vol, '..2024_02'));
    await writeFile(join(vol, '..2024_02', 'token'), 'jwt-two');
    await symlink('..2024_02', join(vol, '..data_tmp'));
    await rename(join(vol, '..data_tmp'), join(vol, '..data'));
    await rm(join(vol, '..2024_01'), { recursive: true });
    expect(await source.read(ctx)).toBe('jwt-two');

    // A read in the gap (link briefly gone) sees ENOENT once and succeeds on the retry.
    await unlink(join(vol, '..data'));
    const reading = source.read(ctx);
    setTimeout(() => void symlink('..2024_02', join(vol, '..data')), 15);
    expect(await reading).toBe('jwt-two');

    // A gap that does not close is reported after the one retry.
    await unlink(join(vol, '..data'));
    expect((await errorOf(source.read(ctx))).message).toContain('no file at');
  });
});

describe('env source', () => {
  it('reads the variable trimmed; unset or blank is an error naming it', async () => {
    expect(await envSource({ var: 'SUBJ' }).read({ ...ctx, env: { SUBJ: ' tok \n' } })).toBe('tok');
    const error = await errorOf(envSource({ var: 'SUBJ' }).read({ ...ctx, env: { SUBJ: ' ' } }));
    expect(error.message).toContain('subjectTokenSource (env): SUBJ is not set or is empty');
  });
});

describe('github_actions source (local server playing the runner token service)', () => {
  const REQUEST_TOKEN = 'REQ-TOKEN-abcdefghijklmnop';

  it('GETs the URL with the audience added and the bearer request token; returns .value; every call mints anew', async () => {
    const seen: { url: string; auth?: string }[] = [];
    let n = 0;
    handler = (req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: `oidc-${++n}`, count: 1 }));
    };
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/_apis/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
    const source = githubActionsSource({ audience: 'https://idp.example/a b' });
    expect(await source.read({ ...ctx, env })).toBe('oidc-1');
    expect(await source.read({ ...ctx, env })).toBe('oidc-2');
    const url = new URL(seen[0]!.url, base);
    expect(url.searchParams.get('api-version')).toBe('2.0');
    expect(url.searchParams.get('audience')).toBe('https://idp.example/a b');
    expect(seen[0]!.auth).toBe(`Bearer ${REQUEST_TOKEN}`);
  });

  it('without the env vars: the fix names `permissions: id-token: write`', async () => {
    const error = await errorOf(githubActionsSource().read({ ...ctx, env: {} }));
    expect(error).toMatchObject({ code: 'subject_token' });
    expect(error.message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set');
    expect(error.message).toContain('id-token: write');
  });

  it('a non-2xx answer is reported with its status and a scrubbed body', async () => {
    handler = (req, res) => {
      res.statusCode = 403;
      res.end(`denied for ${req.headers.authorization} eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl`);
    };
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/t`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
    const error = await errorOf(githubActionsSource().read({ ...ctx, env }));
    expect(error.message).toContain('OIDC token request failed (403)');
    expect(error.message).not.toContain(REQUEST_TOKEN);
    expect(error.message).not.toContain('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0');
    expect(error.message).toContain('id-token: write');
  });

  it('a 5xx is transient, a body without value is a clear error', async () => {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/t`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end('<html>busy</html>');
    };
    expect(await errorOf(githubActionsSource().read({ ...ctx, env }))).toMatchObject({ code: 'transient', status: 503 });
    handler = (_req, res) => res.end('{"count":0}');
    expect((await errorOf(githubActionsSource().read({ ...ctx, env }))).message).toContain('no `value` field');
  });
});

describe('url source', () => {
  it('sends the headers, picks a JSON field, and keeps header values out of errors', async () => {
    handler = (req, res) => {
      if (req.headers['metadata-flavor'] !== 'Google-ish SECRET-HDR-123') {
        res.statusCode = 401;
        res.end(`bad header ${req.headers['metadata-flavor']}`);
        return;
      }
      res.end(JSON.stringify({ data: { token: 'url-token' } }));
    };
    expect(await urlSource({ url: `${base}/id`, headers: { 'metadata-flavor': 'Google-ish SECRET-HDR-123' }, field: 'data.token' }).read(ctx)).toBe('url-token');
    const error = await errorOf(urlSource({ url: `${base}/id?key=QUERY-SECRET`, headers: { 'metadata-flavor': 'WRONG-SECRET-456' } }).read(ctx));
    expect(error.message).toContain('answered 401');
    expect(error.message).not.toContain('WRONG-SECRET-456');
    expect(error.message).not.toContain('QUERY-SECRET');
  });
});

describe('command source', () => {
  const script = (name: string, body: string) => writeFile(join(dir, name), body).then(() => join(dir, name));
  const allow = { ...process.env, OPENCODE_OAUTH_ALLOW_COMMANDS: '1' };

  it('is off unless OPENCODE_OAUTH_ALLOW_COMMANDS=1', async () => {
    const error = await errorOf(commandSource({ command: process.execPath, args: ['-e', 'console.log(1)'] }).read({ ...ctx, env: {} }));
    expect(error).toMatchObject({ code: 'config' });
    expect(error.message).toContain('OPENCODE_OAUTH_ALLOW_COMMANDS=1');
  });

  it('runs without a shell and takes stdout trimmed, or a JSON token field', async () => {
    const echo = await script('echo.mjs', `console.log('  ' + process.argv.slice(2).join('|') + '  ');`);
    expect(await commandSource({ command: process.execPath, args: [echo, 'a; rm -rf /', '$(x)'] }).read({ ...ctx, env: allow })).toBe('a; rm -rf /|$(x)');
    const json = await script('json.mjs', `console.log(JSON.stringify({ version: 1, id_token: 'cmd-jwt' }));`);
    expect(await commandSource({ command: process.execPath, args: [json] }).read({ ...ctx, env: allow })).toBe('cmd-jwt');
    // The config layer's form: one array, program first.
    expect(await createSubjectTokenSource({ type: 'command', command: [process.execPath, echo, 'x y'] }).read({ ...ctx, env: allow })).toBe('x y');
  });

  it('non-zero exit, no output, missing program and timeout are clear errors without the output', async () => {
    const fail = await script('fail.mjs', `console.log('SECRET-OUT'); process.exit(2);`);
    const failed = await errorOf(commandSource({ command: process.execPath, args: [fail] }).read({ ...ctx, env: allow }));
    expect(failed.message).toContain('exited with code 2');
    expect(failed.message).not.toContain('SECRET-OUT');
    const silent = await script('silent.mjs', ``);
    expect((await errorOf(commandSource({ command: process.execPath, args: [silent] }).read({ ...ctx, env: allow }))).message).toContain('printed no token');
    expect((await errorOf(commandSource({ command: join(dir, 'missing-bin') }).read({ ...ctx, env: allow }))).message).toContain('was not found');
    const slow = await script('slow.mjs', `setTimeout(() => console.log('late'), 5000);`);
    const timedOut = await errorOf(commandSource({ command: process.execPath, args: [slow], timeoutSec: 1 }).read({ ...ctx, env: allow }));
    expect(timedOut).toMatchObject({ code: 'timeout' });
    expect(timedOut.message).toContain('did not finish within 1 s');
  });
});

describe('createSubjectTokenSource', () => {
  it('maps each declarative form to its source', () => {
    expect(createSubjectTokenSource({ type: 'github_actions', audience: 'a' }).describe()).toBe('github_actions (audience a)');
    expect(createSubjectTokenSource({ type: 'kubernetes_sa' }).describe()).toBe('kubernetes_sa /var/run/secrets/tokens/oauth2/token');
    expect(createSubjectTokenSource({ type: 'kubernetes_sa', tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token' }).describe()).toContain('serviceaccount');
    expect(createSubjectTokenSource({ type: 'file', path: '/x' }).describe()).toBe('file /x');
    expect(createSubjectTokenSource({ type: 'env', var: 'V' }).describe()).toBe('env V');
    expect(createSubjectTokenSource({ type: 'command', command: 'gcloud' }).describe()).toBe('command gcloud');
    expect(createSubjectTokenSource({ type: 'command', command: ['gcloud', 'auth', 'print-identity-token'], timeoutMs: 5000 }).describe()).toBe('command gcloud');
    expect(createSubjectTokenSource({ type: 'url', url: 'http://x/y?secret=1' }).describe()).toBe('url http://x/y');
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenError } from '../../src/errors.js';
import { escapeHtml, startLoopbackServer, type LoopbackServer } from '../../src/adapters/loopback/index.js';
import { classifyCallback } from '../../src/machines/flowCallback.js';

const STATE = 'expected-STATE-value-123';
const ISSUER = 'https://idp.example/realms/a';
let server: LoopbackServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const hit = (path: string) => fetch(`${server!.redirectUri.replace(/\/oauth2\/callback$/, '')}${path}`);

describe('loopback callback server', () => {
  it('listens on 127.0.0.1 only, on a random port, with the default path', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    expect(server.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2\/callback$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('ignores stray requests and a wrong state, then resolves with the code and answers no-store', async () => {
    server = await startLoopbackServer({ providerId: 'p', path: '/cb' });
    const strays: string[] = [];
    const waiting = server.waitForCallback({ expectedState: STATE, issuer: ISSUER, onStray: (r) => strays.push(r) });
    const base = server.redirectUri.replace(/\/cb$/, '');
    const favicon = await fetch(`${base}/favicon.ico`);
    expect(favicon.status).toBe(404);
    const bare = await fetch(`${base}/cb`);
    expect(bare.status).toBe(400);
    const forged = await fetch(`${base}/cb?code=evil&state=other`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).not.toContain('evil');
    const ok = await fetch(`${base}/cb?code=good-code&state=${STATE}&iss=${encodeURIComponent(ISSUER)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('connection')).toBe('close');
    const page = await ok.text();
    expect(page).toContain('Login complete');
    expect(page).not.toContain('good-code');
    expect(page).not.toContain(STATE);
    await expect(waiting).resolves.toEqual({ kind: 'code', code: 'good-code', iss: ISSUER });
    expect(strays).toEqual(['wrong_path', 'not_an_authorization_response', 'state_mismatch']);
    const late = await fetch(`${base}/cb?code=again&state=${STATE}`);
    expect(late.status).toBe(409);
  });

  it('surfaces the IdP error with its description, HTML-escaped in the page', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    const waiting = server.waitForCallback({ expectedState: STATE });
    const res = await hit(`/oauth2/callback?error=access_denied&error_description=${encodeURIComponent('<script>x</script> user said no')}&state=${STATE}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('access_denied');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt; user said no');
    expect(html).not.toContain('<script>');
    await expect(waiting).resolves.toEqual({ kind: 'idp_error', error: 'access_denied', errorDescription: '<script>x</script> user said no' });
  });

  it('an IdP error with the wrong state is stray: nobody else can end the login', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    const strays: string[] = [];
    const waiting = server.waitForCallback({ expectedState: STATE, onStray: (r) => strays.push(r), deadline: Date.now() + 300 });
    expect((await hit('/oauth2/callback?error=access_denied&state=nope')).status).toBe(400);
    await expect(waiting).rejects.toMatchObject({ code: 'timeout' });
    expect(strays).toEqual(['state_mismatch']);
  });

  it('checks RFC 9207 iss: a different issuer, or a missing one when the server advertises it', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    let waiting = server.waitForCallback({ expectedState: STATE, issuer: ISSUER });
    expect((await hit(`/oauth2/callback?code=c&state=${STATE}&iss=${encodeURIComponent('https://evil.example')}`)).status).toBe(400);
    await expect(waiting).resolves.toEqual({ kind: 'issuer_mismatch', received: 'https://evil.example' });
    await server.close();

    server = await startLoopbackServer({ providerId: 'p' });
    waiting = server.waitForCallback({ expectedState: STATE, issuer: ISSUER, issuerRequired: true });
    await hit(`/oauth2/callback?code=c&state=${STATE}`);
    await expect(waiting).resolves.toEqual({ kind: 'issuer_mismatch' });
  });

  it('ends at the deadline with a timeout error naming the fix', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    const error = await server.waitForCallback({ expectedState: STATE, deadline: Date.now() + 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'timeout', providerId: 'p' });
    expect((error as Error).message).toContain('loginTimeoutSec');
  });

  it('a busy fixed port is a config error naming the port and the fix', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const error = await startLoopbackServer({ providerId: 'p', port }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'config', providerId: 'p' });
      expect((error as Error).message).toContain(`loopback port ${port} on 127.0.0.1 is already in use`);
      expect((error as Error).message).toContain('redirectPort');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('uses a configured port and closes even with a browser keeping the connection alive', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    server = await startLoopbackServer({ providerId: 'p', port });
    expect(server.redirectUri).toBe(`http://127.0.0.1:${port}/oauth2/callback`);
    await hit('/oauth2/callback');
    await server.close();
    await expect(fetch(server.redirectUri)).rejects.toThrow();
    server = undefined;
  });

  it('cancelling the wait through the signal rejects it', async () => {
    server = await startLoopbackServer({ providerId: 'p' });
    const abort = new AbortController();
    const waiting = server.waitForCallback({ expectedState: STATE, signal: abort.signal });
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'evicted' });
  });
});

describe('classifyCallback', () => {
  const expected = { path: '/oauth2/callback', state: STATE, issuer: ISSUER };
  const at = (q: string) => new URL(`http://127.0.0.1:1/oauth2/callback?${q}`);
  it('compares the issuer exactly, trailing slash included (RFC 9207 §2.4)', () => {
    expect(classifyCallback(at(`code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER)}`), expected).kind).toBe('code');
    expect(classifyCallback(at(`code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER + '/')}`), expected).kind).toBe('issuer_mismatch');
    expect(classifyCallback(at(`code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER.toUpperCase())}`), expected).kind).toBe('issuer_mismatch');
  });
  it('a state that only shares a prefix does not match', () => {
    expect(classifyCallback(at(`code=c&state=${STATE}x`), expected)).toEqual({ kind: 'stray', reason: 'state_mismatch' });
    expect(classifyCallback(at(`code=c&state=${STATE.slice(0, -1)}`), expected)).toEqual({ kind: 'stray', reason: 'state_mismatch' });
  });
  it('escapeHtml covers the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

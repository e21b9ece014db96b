import { describe, expect, it } from 'vitest';
import { createRedactingLogger, createStderrJsonLogger, withRedaction } from '../../src/adapters/consoleLogger.js';
import { redactFields, redactUrl, scrubSecrets, tokenFingerprint } from '../../src/adapters/redact.js';
import { TokenError } from '../../src/errors.js';
import { capturingLogger } from './support/harness.js';

// Real shapes: Keycloak/oidc-provider JWTs, GitHub tokens, RFC 6749 examples.
const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCIgOiAiSldUIiwia2lkIiA6ICJ4In0.eyJleHAiOjE3MDAwMDAzMDAsImlhdCI6MTcwMDAwMDAwMCwic3ViIjoiYWxpY2UifQ.Q2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const GITHUB_TOKEN = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';

describe('scrubSecrets', () => {
  it('scrubs a JSON token response but keeps its harmless members', () => {
    const body = JSON.stringify({ access_token: JWT, expires_in: 300, refresh_expires_in: 1800, refresh_token: JWT, token_type: 'Bearer', id_token: JWT, 'not-before-policy': 0, session_state: 'a1b2', scope: 'openid email' });
    const out = scrubSecrets(body);
    expect(out).not.toContain('eyJ');
    expect(out).toContain('"access_token":"[redacted]"');
    expect(out).toContain('"refresh_token":"[redacted]"');
    expect(out).toContain('"token_type":"Bearer"');
    expect(out).toContain('"scope":"openid email"');
    expect(out).toContain('"expires_in":300');
  });

  it('scrubs a form-encoded body (GitHub style) and form fields in URLs', () => {
    expect(scrubSecrets(`access_token=${GITHUB_TOKEN}&scope=repo%2Cgist&token_type=bearer`)).toBe('access_token=[redacted]&scope=repo%2Cgist&token_type=bearer');
    expect(scrubSecrets('https://rp.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz123&iss=https%3A%2F%2Fidp')).toBe(
      'https://rp.example/cb?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fidp',
    );
    expect(scrubSecrets('grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&client_secret=7Fjfp0ZBr1KtDRbnfVdmIw')).toBe(
      'grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]',
    );
  });

  it('scrubs HTML form_post pages and keeps their text', () => {
    const page = `<html><head><title>Submit This Form</title></head><body onload="javascript:document.forms[0].submit()">
<form method="post" action="https://rp.example/cb"><input type="hidden" name="code" value="SplxlOBeZQQYbYS6WxSbIA"/>
<input type="hidden" value="af0ifjsldkj" name="state"/></form></body></html>`;
    const out = scrubSecrets(page);
    expect(out).not.toContain('SplxlOBeZQQYbYS6WxSbIA');
    expect(out).not.toContain('af0ifjsldkj');
    expect(out).toContain('<title>Submit This Form</title>');
  });

  it('scrubs Bearer, Basic and DPoP credentials but not prose', () => {
    expect(scrubSecrets('Authorization: Bearer mF_9.B5f-4.1JqM')).toBe('Authorization: Bearer [redacted]');
    expect(scrubSecrets('authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW')).toBe('authorization: Basic [redacted]');
    expect(scrubSecrets('DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('DPoP [redacted]');
    expect(scrubSecrets('WWW-Authenticate: Basic realm="idp"')).toBe('WWW-Authenticate: Basic realm="idp"');
    expect(scrubSecrets('missing bearer token')).toBe('missing bearer token');
  });

  it('scrubs bare JWTs and long opaque strings, not words, URNs, paths or error codes', () => {
    expect(scrubSecrets(`subject token ${JWT} was rejected`)).toBe('subject token [redacted] was rejected');
    expect(scrubSecrets(`upstream said ${GITHUB_TOKEN}`)).toBe('upstream said [redacted]');
    const harmless = 'invalid_grant: urn:ietf:params:oauth:grant-type:token-exchange at https://idp.example/realms/corporate-engineering-platform-team/protocol error code: invalid_grant';
    expect(scrubSecrets(harmless)).toBe(harmless);
  });

  it('scrubs members inside JSON that was itself JSON-encoded', () => {
    const nested = JSON.stringify({ body: JSON.stringify({ refresh_token: 'short-rt', error: 'x' }) });
    expect(scrubSecrets(nested)).not.toContain('short-rt');
  });

  it('scrubs the request\'s own secrets in every spelling', () => {
    const secret = 'p@ss word/+1';
    const echoed = `bad secret ${secret} (${encodeURIComponent(secret)}, ${new URLSearchParams({ s: secret }).toString()})`;
    const out = scrubSecrets(echoed, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain('p%40ss+word');
  });

  it('is idempotent', () => {
    const text = `Bearer ${JWT} access_token=${GITHUB_TOKEN} {"code":"SplxlOBeZQQYbYS6WxSbIA"}`;
    expect(scrubSecrets(scrubSecrets(text))).toBe(scrubSecrets(text));
  });
});

describe('redactFields', () => {
  it('redacts by explicit name and keeps the harmless token-ish keys the reference over-redacted', () => {
    const input = {
      tokenEndpoint: 'https://idp.example/token',
      tokenType: 'Bearer',
      hasRefreshToken: true,
      expiresAt: 1_700_000_000_000,
      subjectTokenSource: 'github_actions',
      accessToken: 'a',
      refresh_token: 'b',
      clientSecret: 'c',
      code_verifier: 'd',
      deviceCode: 'e',
      password: 'f',
      headers: { Authorization: 'Bearer x', 'Set-Cookie': ['sid=1'], accept: 'application/json' },
      code: 'invalid_grant',
      state: 'refreshing',
      callback: { code: 'SplxlOBeZQQYbYS6WxSbIA', state: 'af0ifjsldkj9' },
      newRefreshToken: 'rt-9f8e7d6c5b4a3f2e1d0c',
    };
    expect(redactFields(input)).toEqual({
      tokenEndpoint: 'https://idp.example/token',
      tokenType: 'Bearer',
      hasRefreshToken: true,
      expiresAt: 1_700_000_000_000,
      subjectTokenSource: 'github_actions',
      accessToken: '[redacted]',
      refresh_token: '[redacted]',
      clientSecret: '[redacted]',
      code_verifier: '[redacted]',
      deviceCode: '[redacted]',
      password: '[redacted]',
      headers: { Authorization: '[redacted]', 'Set-Cookie': '[redacted]', accept: 'application/json' },
      code: 'invalid_grant',
      state: 'refreshing',
      callback: { code: '[redacted]', state: '[redacted]' },
      newRefreshToken: '[redacted]',
    });
    expect(input.accessToken).toBe('a'); // a copy, not a mutation
  });

  it('redacts the private members of a JWK only', () => {
    const jwk = { kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'modulus', e: 'AQAB', d: 'D', p: 'P', q: 'Q', dp: 'DP', dq: 'DQ', qi: 'QI' };
    expect(redactFields({ privateJwk: jwk, point: { d: 'not a key', p: 1 } })).toEqual({
      privateJwk: { kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'modulus', e: 'AQAB', d: '[redacted]', p: '[redacted]', q: '[redacted]', dp: '[redacted]', dq: '[redacted]', qi: '[redacted]' },
      point: { d: 'not a key', p: 1 },
    });
  });

  it('survives cycles and deep nesting', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { child: deep };
    const out = redactFields({ a, deep }) as { a: { self: unknown }; deep: unknown };
    expect(out.a.self).toBe('[circular]');
    expect(JSON.stringify(out.deep)).toContain('[depth]');
  });

  it('copies errors, URLs and headers safely, scrubbing strings on request', () => {
    const error = new TokenError({ code: 'invalid_grant', providerId: 'corp', message: 'refused' });
    const out = redactFields(
      { error, plain: new Error(`boom Bearer ${GITHUB_TOKEN}`), url: new URL('https://u:p@idp.example/cb?code=x#f'), headers: new Headers({ authorization: 'Basic abc', 'x-request-id': '1' }) },
      { scrubStrings: true },
    ) as unknown as Record<string, Record<string, unknown> | string>;
    expect(out.error).toMatchObject({ name: 'TokenError', code: 'invalid_grant', providerId: 'corp' });
    expect((out.plain as Record<string, unknown>).message).toBe('boom Bearer [redacted]');
    expect(out.url).toBe('https://idp.example/cb');
    expect(out.headers).toEqual({ authorization: '[redacted]', 'x-request-id': '1' });
  });
});

describe('redactUrl and tokenFingerprint', () => {
  it('drops userinfo, query and fragment', () => {
    expect(redactUrl('https://user:pw@idp.example:8443/realms/x/token?client_secret=s#frag')).toBe('https://idp.example:8443/realms/x/token');
    expect(redactUrl('not a url?client_secret=s')).toBe('not a url');
    expect(redactUrl('//user:pw@host/path?x')).toBe('//host/path');
  });

  it('fingerprints with the first 8 hex characters of SHA-256', () => {
    expect(tokenFingerprint('abc')).toBe('ba7816bf');
    expect(tokenFingerprint(JWT)).toMatch(/^[0-9a-f]{8}$/);
    expect(tokenFingerprint(JWT)).not.toBe(tokenFingerprint(`${JWT}x`));
  });
});

describe('redacting loggers', () => {
  it('redacts fields, scrubs strings and honours the minimum level', () => {
    const seen: Array<[string, string, Record<string, unknown>]> = [];
    const logger = createRedactingLogger((level, event, fields) => seen.push([level, event, fields]), 'info');
    logger.debug('dropped', { accessToken: 'x' });
    logger.info('token_request_succeeded', { accessToken: GITHUB_TOKEN, tokenType: 'Bearer', note: `sent refresh_token=${GITHUB_TOKEN}` });
    expect(seen).toEqual([['info', 'token_request_succeeded', { accessToken: '[redacted]', tokenType: 'Bearer', note: 'sent refresh_token=[redacted]' }]]);
  });

  it('never lets a broken sink throw into the caller', () => {
    const logger = createRedactingLogger(() => {
      throw new Error('sink down');
    });
    expect(() => logger.error('x', {})).not.toThrow();
  });

  it('writes one JSON line per record to stderr, and wraps foreign loggers', () => {
    const lines: string[] = [];
    createStderrJsonLogger('warn', (line) => lines.push(line)).warn('refresh_failed', { refreshToken: 'r', status: 503 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', event: 'refresh_failed', refreshToken: '[redacted]', status: 503 });

    const { logger, records } = capturingLogger();
    withRedaction(logger).debug('x', { client_secret: 's', providerId: 'corp' });
    expect(records).toEqual([{ level: 'debug', event: 'x', fields: { client_secret: '[redacted]', providerId: 'corp' } }]);
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMetadataDocument } from '../../src/adapters/http/discovery.js';
import { isLoopbackHost } from '../../src/adapters/plainHttp.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { createModelCache } from '../../src/plugin/modelCache.js';

/**
 * Issue 10.10: plain http to a non-loopback host is refused for the IdP, its endpoints (configured and
 * discovered) and the gateway baseURL, unless allowInsecureHttp; `127.attacker.example` is not loopback;
 * model-cache file names no longer collide.
 */

const oauth2 = { issuer: 'https://login.corp.example/realms/ai', clientId: 'opencode', scopes: ['openid'] };
const parse = (baseURL: string, block: Record<string, unknown> = {}) =>
  parseOpenCodeConfig({ provider: { corp: { options: { baseURL, oauth2: { ...oauth2, ...block } } } } });

describe('plain http (issue 10.10)', () => {
  it('loopback is 127.0.0.0/8, ::1 and localhost only', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', 'LOCALHOST']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['127.attacker.example', '127.0.0.1.nip.io', 'localhost.attacker.example', '128.0.0.1', '127.0.0.256', '10.0.0.1', '::ffff:7f00:1x'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('a plain-http gateway baseURL off this machine is refused: the provider does not start', () => {
    const result = parse('http://ai.corp.example/v1');
    expect(result.providers).toEqual([]);
    expect(result.errors).toEqual([expect.objectContaining({ providerId: 'corp', field: 'baseURL', severity: 'error' })]);
    expect(result.errors[0]!.message).toContain('allowInsecureHttp');
  });

  it('a lookalike of loopback is refused like any other host', () => {
    const result = parse('https://ai.corp.example/v1', { issuer: 'http://127.attacker.example/realms/ai' });
    expect(result.providers).toEqual([]);
    expect(result.errors.map((e) => e.field)).toEqual(['issuer']);
  });

  it('allowInsecureHttp: true starts the provider, loudly', () => {
    const result = parse('http://ai.corp.example/v1', { allowInsecureHttp: true, tokenEndpoint: 'http://login.corp.example/token' });
    expect(result.providers.map((p) => p.id)).toEqual(['corp']);
    expect(result.warnings.map((w) => w.field).sort()).toEqual(['baseURL', 'tokenEndpoint']);
    expect(result.warnings.every((w) => w.message.includes('UNENCRYPTED'))).toBe(true);
  });

  it('loopback over plain http is fine', () => {
    const result = parse('http://127.0.0.1:4000/v1', { issuer: 'http://localhost:8080/realms/ai' });
    expect(result.errors).toEqual([]);
    expect(result.providers).toHaveLength(1);
  });

  it('a discovered plain-http token endpoint on another host is refused for an https issuer', () => {
    const issuer = 'https://login.corp.example/realms/ai';
    const document = { issuer, token_endpoint: 'http://evil.example/token' };
    expect(() => processMetadataDocument('corp', issuer, `${issuer}/.well-known/openid-configuration`, document)).toThrow(
      /token_endpoint" is plain http on a non-loopback host/,
    );
    const fine = processMetadataDocument('corp', issuer, `${issuer}/.well-known/openid-configuration`, { issuer, token_endpoint: 'https://login.corp.example/token' });
    expect(fine.tokenEndpoint).toBe('https://login.corp.example/token');
  });
});

describe('model cache file names (issue 10.10)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'model-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('corp/a and corp:a keep lists of their own', async () => {
    const cache = createModelCache(dir);
    await cache.write('corp/a', 'https://a.example/v1', [{ id: 'model-a' }] as never);
    await cache.write('corp:a', 'https://a.example/v1', [{ id: 'model-b' }] as never);
    expect((await cache.read('corp/a', 'https://a.example/v1'))?.map((m) => m.id)).toEqual(['model-a']);
    expect((await cache.read('corp:a', 'https://a.example/v1'))?.map((m) => m.id)).toEqual(['model-b']);
    expect(readdirSync(dir)).toHaveLength(2);
  });
});


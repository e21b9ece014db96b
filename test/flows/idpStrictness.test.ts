/**
 * Issue 9.8 through the config layer and the real flows, against a scripted token endpoint on 127.0.0.1
 * (what is checked is the exact form the client sends, which the lab IdP does not expose).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenEndpointAdapter } from '../../src/adapters/http/index.js';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { runFlow } from '../../src/flows/index.js';
import { silentLogger } from '../../src/adapters/logger.js';
import { createMemoryStore } from '../../src/adapters/storage/index.js';
import { providerSettings } from '../../src/runtime/index.js';
import { lifecycleEffects } from '../../src/runtime/lifecycleActors.js';
import { json, startScriptedServer, type ScriptedServer } from '../http/support/scriptedServer.js';

let server: ScriptedServer;
let n = 0;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(() => server.close());

const ok = json(200, { access_token: 'at-strictness-0001', token_type: 'Bearer', expires_in: 300 });

/** A provider from the config layer whose token endpoint is the scripted one (no discovery needed). */
function run(block: Record<string, unknown>) {
  const path = `/s${++n}/token`;
  server.script(path, ok);
  const parsed = parseOpenCodeConfig({
    provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: { issuer: server.url, tokenEndpoint: `${server.url}${path}`, clientId: 'cli', clientSecret: 'cs-strictness-secret', scopes: ['api'], ...block } } } },
  });
  expect(parsed.errors.map((e) => e.message)).toEqual([]);
  const { provider } = providerSettings(parsed.providers[0]!);
  return { path, done: runFlow({ ...provider, interactive: false, notify: () => {} }, { http: createTokenEndpointAdapter(), env: { SUBJECT: 'subject-token-opaque-0001' } }) };
}

describe('9.8 every configured resource is sent', () => {
  it('client_credentials with two resources sends both', async () => {
    const { path, done } = run({ authFlow: 'client_credentials', resource: ['https://api.a.example/', 'https://api.b.example/'] });
    await done;
    // Before (661bc6b): only the first, silently.
    expect(server.seen(path)[0]!.form.getAll('resource')).toEqual(['https://api.a.example/', 'https://api.b.example/']);
  });

  it('token_exchange with two resources sends both', async () => {
    const { path, done } = run({ authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'SUBJECT' }, resource: ['urn:a', 'urn:b'] });
    await done;
    expect(server.seen(path)[0]!.form.getAll('resource')).toEqual(['urn:a', 'urn:b']);
  });
});

describe('9.8 every configured resource is sent on a refresh too', () => {
  it('the refresh grant of a user flow with two resources sends both', async () => {
    const path = `/s${++n}/token`;
    server.script(path, ok);
    const parsed = parseOpenCodeConfig({
      provider: { corp: { options: { baseURL: 'http://127.0.0.1:9/v1', oauth2: { issuer: server.url, tokenEndpoint: `${server.url}${path}`, clientId: 'cli', scopes: ['openid', 'offline_access'], resource: ['https://api.a.example/', 'https://api.b.example/'] } } } },
    });
    const settings = providerSettings(parsed.providers[0]!);
    const effects = lifecycleEffects(settings, { store: createMemoryStore(), http: createTokenEndpointAdapter(), logger: silentLogger, now: Date.now, lockWaitMs: 1000 });
    await effects.refresh('rt-strictness-refresh-0001', new AbortController().signal);
    const form = server.seen(path)[0]!.form;
    expect(form.get('grant_type')).toBe('refresh_token');
    // Before: the refresh sent only the first resource (the acquisition sent both).
    expect(form.getAll('resource')).toEqual(['https://api.a.example/', 'https://api.b.example/']);
  });
});

describe("9.8 Keycloak's legacy token exchange: subject_issuer", () => {
  it('subjectIssuer from the config is sent as subject_issuer', async () => {
    const { path, done } = run({ authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'SUBJECT' }, subjectIssuer: 'github-oidc' });
    await done;
    // Before: no such field (Keycloak v1 exchange of an external token could not be configured).
    const form = server.seen(path)[0]!.form;
    expect(form.get('subject_issuer')).toBe('github-oidc');
    expect(form.get('subject_token')).toBe('subject-token-opaque-0001');
  });

  it('without subjectIssuer no subject_issuer is sent', async () => {
    const { path, done } = run({ authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'SUBJECT' } });
    await done;
    expect(server.seen(path)[0]!.form.has('subject_issuer')).toBe(false);
  });
});

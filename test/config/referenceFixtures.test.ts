import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KUBERNETES_TOKEN_PATH, parseOpenCodeConfig } from '../../src/config/index.js';

/** Configs written for @vymalo/opencode-oauth2, from the field tables and examples of its docs: they must parse unchanged. */
async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

describe('drop-in: configs written for the reference plugin', () => {
  it('README example (shape A, authorization_code)', async () => {
    const result = parseOpenCodeConfig(await fixture('reference-readme.json'));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.providers).toHaveLength(1);
    expect(result.providers[0]).toMatchObject({
      id: 'example-ai',
      name: 'Example AI',
      issuer: 'https://auth.example.com',
      clientId: 'opencode-client',
      scopes: ['openid', 'profile', 'offline_access'],
      flow: 'authorization_code',
      client: { method: 'none' },
      redirectPath: '/oauth2/callback',
      opencode: { baseURL: 'https://api.example.com/v1', syncIntervalMinutes: 60 },
    });
  });

  it('shape B with top-level runtime fields (which work here)', async () => {
    const result = parseOpenCodeConfig(await fixture('reference-shape-b.json'));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.runtime).toEqual({ cacheNamespace: 'oauth2-model-sync', httpTimeoutMs: 20000, tokenExpirySkewMs: 60000, logLevel: 'debug' });
    expect(result.providers.map((p) => [p.id, p.name, p.flow, p.flow !== 'passthrough' && p.client.method, p.httpTimeoutMs])).toEqual([
      ['corp-ai', 'Corp AI', 'device_code', 'none', 20000],
      ['batch', 'batch', 'client_credentials', 'client_secret_post', 20000],
    ]);
    expect(result.providers[0]).toMatchObject({ pkce: true });
    expect(result.providers[0]!.opencode.nameOverrides).toEqual({ 'glm-5': 'GLM-5 (corp)' });
    expect(result.providers[1]).toMatchObject({ client: { method: 'client_secret_post', secret: '{env:BATCH_CLIENT_SECRET}' } });
  });

  it('GitHub Actions jwt_bearer', async () => {
    const result = parseOpenCodeConfig(await fixture('reference-github-actions.json'));
    expect(result.errors).toEqual([]);
    expect(result.providers[0]).toMatchObject({
      flow: 'jwt_bearer',
      subjectTokenSource: { type: 'github_actions', audience: 'https://keycloak.corp.example/realms/ai' },
    });
    // jwt_bearer sends no subject_token_type: the field only exists where a token exchange reads it.
    expect(result.providers[0]).not.toHaveProperty('subjectTokenType');
  });

  it('Kubernetes token_exchange (alias key, reference audience name), env and file sources', async () => {
    const result = parseOpenCodeConfig(await fixture('reference-kubernetes.json'));
    expect(result.errors).toEqual([]);
    const [k8s, dev, file] = result.providers;
    expect(k8s).toMatchObject({
      id: 'corp-ai',
      source: 'provider.corp-ai.options.oauth2ModelSync',
      flow: 'token_exchange',
      audience: 'llm-gateway',
      subjectTokenSource: { type: 'kubernetes_sa', tokenPath: DEFAULT_KUBERNETES_TOKEN_PATH },
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      client: { method: 'client_secret_post' },
      opencode: { responseApi: true },
    });
    // pkce and redirectPort do nothing for a token exchange: they are not in its model (and warned about below).
    expect(k8s).not.toHaveProperty('pkce');
    expect(k8s).not.toHaveProperty('redirectPort');
    expect(dev).toMatchObject({ id: 'dev-env', subjectTokenSource: { type: 'env', var: 'DEV_SUBJECT_TOKEN' } });
    expect(file).toMatchObject({ id: 'file-subject', scopes: ['api://gateway/.default'] });
    // Settings the reference accepted silently but that do nothing here are pointed out, not refused.
    expect(result.warnings.map((w) => w.message)).toEqual([
      'corp-ai: redirectPort only applies to authFlow "authorization_code"; it is ignored for "token_exchange"',
      'corp-ai: pkce only applies to authorization_code and device_code; it is ignored for "token_exchange"',
    ]);
  });
});

/**
 * End to end with the real OpenCode CLI (needs `npm run build`): the plugin's `passthrough` flow sends the
 * GitHub Actions ID token (from the lab CI issuer's fake Actions endpoint) as its API key to this gateway, which
 * validates it and forwards to the lab model gateway with the injected key, here an access token our own token
 * engine got from the lab IdP (client_credentials). A tap in front of the lab gateway records what it received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, Scenario, tempRoot } from '../e2e/harness.js';
import { startTestGateway, type RunningGateway } from './support.js';

const AUDIENCE = 'opencode-oauth-gateway-e2e';
let lab: E2eLab;
let gw: RunningGateway;
const root = tempRoot('gateway');
const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'gw-e2e-cache-'));
process.env.XDG_CACHE_HOME = cacheHome;

interface Tapped {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const tapped: Tapped[] = [];
let tap: http.Server;

beforeAll(async () => {
  lab = await startLab({ models: ['lab-model'] });
  const target = new URL(lab.gateway.url);
  tap = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      tapped.push({ url: req.url ?? '', headers: req.headers, body: body.toString() });
      const out = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => tap.listen(0, '127.0.0.1', resolve));
  const client = lab.idp.clients.basic;
  gw = await startTestGateway(
    {
      OIDC_ISSUER: lab.ci.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      ALLOWED_REPOS: 'octo-org/octo-repo',
      UPSTREAM_URL: `http://127.0.0.1:${(tap.address() as AddressInfo).port}`,
      UPSTREAM_API_KEY: undefined,
    },
    {
      file: {
        upstream: {
          authHeader: 'Authorization',
          authPrefix: 'Bearer ',
          engine: {
            provider: 'llm-idp',
            servers: [{ id: 'llm-idp', issuer: lab.idp.issuer, clientId: client.client_id, clientSecret: client.client_secret, clientAuthMethod: 'client_secret_basic', scopes: ['api:read'], authFlow: 'client_credentials' }],
          },
        },
      },
    },
  );
});

afterAll(async () => {
  await gw?.stop();
  await new Promise<void>((resolve) => (tap ? (tap.close(() => resolve()), tap.closeAllConnections()) : resolve()));
  await lab?.stop();
  root.remove();
  rmSync(cacheHome, { recursive: true, force: true });
});

describe('gateway end to end with the real OpenCode CLI', () => {
  it('passthrough: the CI JWT reaches this gateway, the upstream sees only the injected key', async () => {
    const scenario = new Scenario(root.root, 'passthrough', {
      env: { ...lab.ci.actionsEnv },
      config: {
        provider: {
          ci: {
            name: 'CI gateway',
            options: { baseURL: `${gw.url}/v1`, oauth2: { passthrough: true, subjectTokenSource: { type: 'github_actions', audience: AUDIENCE } } },
          },
        },
      },
    });
    const mintedBefore = lab.ci.counters.actionsToken.ok;

    const result = await scenario.run('ci/lab-model');

    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain('Hello from the lab gateway (model lab-model)');
    // The lab gateway introspected the bearer at the IdP: it was the engine's client_credentials token.
    expect(answerText(result.stdout)).toContain(`client=${lab.idp.clients.basic.client_id}`);
    expect(lab.ci.counters.actionsToken.ok - mintedBefore).toBeGreaterThanOrEqual(1);

    const okLines = gw.logs.filter((l) => l.outcome === 'ok' && String(l.path).endsWith('/chat/completions'));
    expect(okLines.length).toBeGreaterThanOrEqual(1);
    expect(okLines[0]).toMatchObject({ iss: lab.ci.issuer, repository: 'octo-org/octo-repo', ref: 'refs/heads/main' });

    const chats = tapped.filter((t) => t.url.endsWith('/chat/completions'));
    expect(chats.length).toBeGreaterThanOrEqual(1);
    for (const request of tapped) {
      expect(request.headers.authorization).toMatch(/^Bearer \S+$/);
      expect(request.headers['x-api-key']).toBeUndefined();
    }
    // The lab's secret collector knows every CI JWT shape and every IdP token: the upstream saw the IdP's
    // client_credentials token (the injected key) and no CI token (a fresh one proves the collector spots them).
    const seenUpstream = lab.secrets.kindsIn(JSON.stringify(tapped));
    expect(seenUpstream).toEqual(['client_credentials']);
    expect(lab.secrets.kindsIn(await lab.ci.mint({ aud: AUDIENCE }))).toContain('ci_jwt');
    const authorized = lab.gateway.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(authorized.every((r) => r.authorized && r.client_id === lab.idp.clients.basic.client_id)).toBe(true);
    expect(scenario.sweep(lab)).toEqual([]);
  }, 90_000);
});

/**
 * The reference's `.well-known/opencode` distribution (docs/migration.md): a server on 127.0.0.1 publishes the
 * plugin and a provider block; `opencode auth login <url>` (the real CLI, headless) stores the wellknown record,
 * and the next `opencode run` merges the published config, loads the plugin and answers through the lab, with
 * the placeholder key never sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerText, isolatedEnv, pluginUrl, runOpencode, startLab, stateDirs, writeProject } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { describeRun, tempRoot } from '../e2e/harness.js';

let lab: E2eLab;
let server: http.Server;
let url: string;
let fetches = 0;
const root = tempRoot('wellknown');

beforeAll(async () => {
  lab = await startLab({ models: ['lab-model'] });
  server = http.createServer((req, res) => {
    if (req.url !== '/.well-known/opencode') {
      res.writeHead(404).end();
      return;
    }
    fetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        auth: { command: ['sh', '-c', 'echo plugin-managed'], env: 'OPENAI_API_KEY' },
        config: {
          plugin: [pluginUrl()],
          provider: {
            corp: {
              name: 'Corp AI',
              options: {
                baseURL: lab.gateway.baseURL,
                oauth2: {
                  issuer: lab.idp.issuer,
                  clientId: lab.idp.clients.ci.client_id,
                  scopes: ['api:read'],
                  authFlow: 'jwt_bearer',
                  subjectTokenSource: { type: 'github_actions', audience: lab.idp.issuer },
                },
              },
            },
          },
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await lab?.stop();
  root.remove();
});

describe('.well-known/opencode distribution', () => {
  it('auth login <url>, then a run with only the published config', async () => {
    const stateDir = root.dir('state');
    const project = root.dir('project');
    const env = isolatedEnv(stateDir, { ...lab.ci.actionsEnv });
    writeProject(project, {});

    const login = await runOpencode({ cwd: project, env, args: ['auth', 'login', url], timeoutMs: 30_000 });
    expect(login.code, describeRun(login)).toBe(0);
    const auth = JSON.parse(readFileSync(stateDirs(stateDir).authFile, 'utf8')) as Record<string, { type: string }>;
    expect(auth[url]?.type).toBe('wellknown');

    const before = fetches;
    lab.gateway.resetLog();
    const result = await runOpencode({ cwd: project, env, args: ['run', '--format', 'json', '--model', 'corp/lab-model', 'hello'], timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);
    expect(answerText(result.stdout)).toContain(`client=${lab.idp.clients.ci.client_id}`);
    expect(fetches - before).toBeGreaterThanOrEqual(1);
    const chats = lab.gateway.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(chats.length).toBeGreaterThanOrEqual(1);
    // Every request carried the plugin's token: the placeholder key would have been refused by introspection.
    expect(chats.every((r) => r.authorized)).toBe(true);
  }, 120_000);
});

/**
 * Issue 10 through the real OpenCode CLI (its Bun runtime, the plugin from dist/), against the lab:
 * - the agent's own tools, driven by the lab gateway's scripted tool calls (`CALLTOOL:<tool>` with the
 *   arguments in `toolArguments`), try the red-team reads of the token store and a `{file:…}` secret;
 * - a gateway that echoes the credential in its error bodies, followed by the leak sweep;
 * - a gateway that redirects to another origin, which must never see the passthrough `x-api-key`;
 * - a gateway that refuses freshly issued tokens: the user is told why (issue 12.4).
 */
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCiIssuer, startGateway, startIdp, type CiIssuer, type Gateway, type Idp } from '../../lab/index.mjs';
import { readLogs, SecretCollector } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { answerText, describeRun, Scenario, shownErrors, tempRoot } from '../e2e/harness.js';
import { startHostileGateway, type HostileGateway } from './support/hostileGateway.mjs';

const TEST_TIMEOUT_MS = 180_000;
const PERMISSIVE = { bash: 'allow', read: 'allow', edit: 'allow', external_directory: 'allow' };

let ci: CiIssuer;
let idp: Idp;
let gateway: Gateway;
let hostile: HostileGateway;
let lab: E2eLab;
const toolArguments: Record<string, Record<string, unknown>> = {};
const root = tempRoot('security');

beforeAll(async () => {
  ci = await startCiIssuer();
  idp = await startIdp({ ciIssuer: ci });
  gateway = await startGateway({ idp, models: ['lab-model'], toolArguments });
  hostile = await startHostileGateway();
  const secrets = new SecretCollector();
  secrets.watchIdp(idp);
  secrets.watchCiIssuer(ci);
  lab = { ci, idp, gateway, secrets, stop: async () => secrets.dispose() };
}, 60_000);

afterAll(async () => {
  await lab?.stop();
  await Promise.allSettled([gateway?.stop(), hostile?.stop(), idp?.stop(), ci?.stop()]);
  root.remove();
});

function machineProvider(baseURL: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'Corp AI',
    options: {
      baseURL,
      oauth2: {
        issuer: idp.issuer,
        clientId: idp.clients.post.client_id,
        clientSecret: '{file:./client-secret.txt}',
        authFlow: 'client_credentials',
        scopes: ['api:read'],
      },
      ...extra,
    },
    models: { 'lab-model': { name: 'Lab Model' } },
  };
}

describe('the tool guard through the real CLI (issue 10.1)', () => {
  it('refuses the red-team reads of the token store and of a {file:…} secret', async () => {
    const scenario = new Scenario(root.root, 'guard', {
      config: { permission: PERMISSIVE, provider: { corp: machineProvider(gateway.baseURL) } },
    });
    writeFileSync(path.join(scenario.projectDir, 'client-secret.txt'), idp.clients.post.client_secret!);
    const first = await scenario.run('corp/lab-model');
    expect(first.code, describeRun(first)).toBe(0);
    const store = scenario.dirs.tokenStore;
    const recordName = readdirSync(store).find((name) => name.endsWith('.json'))!;
    const accessToken = JSON.parse(readFileSync(path.join(store, recordName), 'utf8')).token.accessToken as string;
    symlinkSync(path.dirname(store), path.join(scenario.projectDir, 'innocent'));

    const attacks: Array<[string, Record<string, unknown>]> = [
      ['bash', { command: 'cat $XDG_CACHE_HOME/opencode-oauth-machines/tok*/*', description: 'look' }],
      ['bash', { command: 'cd $XDG_CACHE_HOME/opencode-oauth-machines && cat tokens/*', description: 'look' }],
      ['bash', { command: 'grep -rh accessToken $XDG_CACHE_HOME', description: 'look' }],
      ['bash', { command: 'base64 innocent/tokens/*', description: 'look' }],
      ['read', { filePath: path.join(scenario.projectDir, 'innocent', 'tokens', recordName) }],
      ['read', { filePath: path.join(scenario.projectDir, 'client-secret.txt') }],
    ];
    const outcomes: string[] = [];
    for (const [tool, args] of attacks) {
      toolArguments[tool] = args;
      const result = await scenario.run('corp/lab-model', `please CALLTOOL:${tool}`);
      const answer = answerText(result.stdout);
      const everything = `${result.stdout}\n${result.stderr}`;
      const asked = gateway.requests.filter((r) => r.toolCall === tool).length > 0;
      outcomes.push(`${tool} ${JSON.stringify(args)}: asked=${asked} refused=${answer.includes('opencode-oauth-machines: refused')} leaked=${everything.includes(accessToken) || everything.includes(idp.clients.post.client_secret!)}`);
    }
    expect(outcomes.filter((line) => !line.endsWith('leaked=false') || !line.includes('asked=true') || !line.includes('refused=true'))).toEqual([]);
    // At least one refusal reached OpenCode's log (the plugin's log lines of a run that exits at once can be lost).
    expect(readLogs(scenario.stateDir)).toContain('tool_refused');
    // The client secret's own file is where it belongs; everything else OpenCode wrote is swept.
    expect(scenario.sweep(lab, { exclude: [path.join(scenario.projectDir, 'client-secret.txt')] })).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe('gateways that leak what they are sent, through the real CLI (issue 10.2, 10.3)', () => {
  it('a gateway echoing the bearer in its 403 body: nothing of it reaches stdout, stderr or OpenCode state', async () => {
    const scenario = new Scenario(root.root, 'echo', { config: { provider: { corp: machineProvider(hostile.baseURL('echo')) } } });
    writeFileSync(path.join(scenario.projectDir, 'client-secret.txt'), idp.clients.post.client_secret!);
    const result = await scenario.run('corp/lab-model');
    expect(hostile.requests.some((r) => r.path.includes('/echo/') && r.status === 403), describeRun(result)).toBe(true);
    expect(shownErrors(result)).toContain('Incorrect API key provided');
    expect(existsSync(path.join(scenario.dirs.opencodeData))).toBe(true);
    expect(lab.secrets.kinds().client_credentials ?? lab.secrets.kinds().access_token).toBeGreaterThan(0);
    expect(scenario.sweep(lab, { exclude: [path.join(scenario.projectDir, 'client-secret.txt')] })).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('a gateway that refuses every freshly issued token: the user is told the likely cause (issue 12.4)', async () => {
    const scenario = new Scenario(root.root, 'fresh-401', { config: { provider: { corp: machineProvider(hostile.baseURL('echo401')) } } });
    writeFileSync(path.join(scenario.projectDir, 'client-secret.txt'), idp.clients.post.client_secret!);
    const result = await scenario.run('corp/lab-model');
    const shown = shownErrors(result);
    expect(shown, describeRun(result)).toContain('the gateway refused a freshly issued token');
    expect(shown).toMatch(/audience/);
    expect(shown).toMatch(/issuer/);
    expect(scenario.sweep(lab, { exclude: [path.join(scenario.projectDir, 'client-secret.txt')] })).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('a gateway redirecting to another origin: the target never sees the passthrough x-api-key (OpenCode\'s Bun)', async () => {
    const secret = 'ci-jwt-Xy7Qk2secretValue0123456789abcdef';
    lab.secrets.add('ci_passthrough', secret);
    hostile.sinkRequests.length = 0;
    const scenario = new Scenario(root.root, 'redirect', {
      env: { CI_PASSTHROUGH_TOKEN: secret },
      config: {
        provider: {
          ci: {
            name: 'CI gateway',
            options: {
              baseURL: hostile.baseURL('redirect'),
              oauth2: { passthrough: { header: 'x-api-key' }, subjectTokenSource: { type: 'env', var: 'CI_PASSTHROUGH_TOKEN' } },
            },
            models: { 'lab-model': { name: 'Lab Model' } },
          },
        },
      },
    });
    const result = await scenario.run('ci/lab-model');
    expect(hostile.sinkRequests.length, describeRun(result)).toBeGreaterThan(0);
    expect(hostile.sinkRequests.filter((r) => r.headers['x-api-key'] !== undefined || JSON.stringify(r.headers).includes(secret))).toEqual([]);
    expect(scenario.sweep(lab)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

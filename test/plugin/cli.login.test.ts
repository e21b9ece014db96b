import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SCRIPT, startGateway, startIdp, type Gateway, type Idp } from '../../lab/index.mjs';

/**
 * The real OpenCode CLI (opencode-ai 1.18.33) with the built plugin (dist/index.mjs), in an isolated
 * HOME/XDG state dir, against the lab: the plugin loads, `opencode models` lists what the gateway offers with
 * display names, and `opencode providers login` completes a device-code login into our store.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const OPENCODE = join(ROOT, 'node_modules/opencode-linux-x64/bin/opencode');
const DIST = join(ROOT, 'dist/index.mjs');

let idp: Idp;
let gateway: Gateway;
let state: string;

function isolatedEnv(extra: Record<string, string> = {}) {
  return {
    PATH: '/usr/bin:/bin',
    HOME: join(state, 'home'),
    TMPDIR: join(state, 'tmp'),
    XDG_CONFIG_HOME: join(state, 'config'),
    XDG_DATA_HOME: join(state, 'data'),
    XDG_CACHE_HOME: join(state, 'cache'),
    XDG_STATE_HOME: join(state, 'state'),
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_FFF: '1',
    npm_config_fetch_retries: '0',
    ...extra,
  };
}

/** Runs the CLI in the project dir, stdin closed, bounded. */
function opencode(args: string[], extra: Record<string, string> = {}, timeoutMs = 30_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(OPENCODE, args, { cwd: join(state, 'project'), env: isolatedEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opencode ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function opencodeLogs() {
  const dir = join(state, 'data/opencode/log');
  const files = existsSync(dir) ? await readdir(dir) : [];
  return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
}

async function storedRecords() {
  const dir = join(state, 'cache/opencode-oauth-machines/tokens');
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.json')) : [];
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))));
}

beforeAll(async () => {
  if (!existsSync(DIST)) {
    const build = spawnSync('npx', ['tsdown'], { cwd: ROOT, stdio: 'ignore', timeout: 60_000 });
    if (build.status !== 0) throw new Error('npx tsdown failed; the CLI test needs dist/index.mjs');
  }
  idp = await startIdp({ deviceInterval: 1 });
  gateway = await startGateway({ idp, models: ['glm-5', 'qwen2-72b-instruct', 'lab-model'] });
  state = await mkdtemp(join(tmpdir(), 'plugin-cli-'));
  for (const dir of ['home', 'tmp', 'data', 'cache', 'state', 'project', 'config/opencode/node_modules']) await mkdir(join(state, dir), { recursive: true });
  // A pre-seeded config dir: OpenCode does not try to npm-install @opencode-ai/plugin (no network needed).
  await writeFile(join(state, 'config/opencode/package.json'), JSON.stringify({ dependencies: { '@opencode-ai/plugin': '*' } }));
  await writeFile(join(state, 'config/opencode/package-lock.json'), JSON.stringify({ packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } } }));
  const oauth = (extra: Record<string, unknown>) => ({ issuer: idp.issuer, scopes: ['api:read'], ...extra });
  await writeFile(
    join(state, 'project/opencode.json'),
    JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      plugin: [`file://${DIST}`],
      provider: {
        svc: {
          name: 'Lab Service',
          options: {
            baseURL: gateway.baseURL,
            oauth2: oauth({ clientId: 'lab-basic', clientSecret: idp.clients.basic.client_secret, clientAuthMethod: 'client_secret_basic', authFlow: 'client_credentials' }),
          },
          models: { 'lab-model': { name: 'My Lab Model' } },
        },
        dev: {
          name: 'Lab Device',
          options: { baseURL: gateway.baseURL, oauth2: oauth({ clientId: 'lab-native', scopes: ['openid', 'offline_access', 'api:read'], authFlow: 'device_code' }) },
        },
      },
    }),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all([gateway?.stop(), idp?.stop()]);
  if (state) await rm(state, { recursive: true, force: true });
});

describe('the real OpenCode CLI', () => {
  it('loads the plugin, lists the discovered models with display names, and logs in with a device code', async () => {
    const models = await opencode(['models', 'svc', '--verbose']);
    expect(models.code).toBe(0);
    expect(models.stdout).toContain('svc/glm-5');
    expect(models.stdout).toContain('svc/qwen2-72b-instruct');
    expect(models.stdout).toMatch(/"name": "GLM 5"/);
    expect(models.stdout).toMatch(/"name": "Qwen2 72B Instruct"/);
    expect(models.stdout).toMatch(/"name": "My Lab Model"/);
    // The user-flow provider has no token and no list yet: only the stand-in that says to log in (so the TUI
    // lists it in /models and /connect), and no login was started on our own.
    expect((await opencode(['models', 'dev'])).stdout.trim()).toBe('dev/login');
    expect(idp.counters.deviceAuthorization.requests).toBe(0);
    // Asking for it anyway reaches the plugin (a placeholder model) and says how to log in; nothing is sent.
    const early = await opencode(['run', '--model', 'dev/glm-5', 'hello']);
    expect(early.code).toBe(1);
    expect(early.stdout + early.stderr).toContain('[dev] not logged in to Lab Device — run `opencode auth login`, pick "Lab Device" and "Device code login"');
    expect(gateway.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    const logs = await opencodeLogs();
    expect(logs).toMatch(/message="opencode-oauth-machines: plugin_loaded"/);
    expect(logs).toMatch(/message="opencode-oauth-machines: providers_registered" providers=svc,dev/);

    // `opencode providers login` offers our device flow; the BROWSER shim approves the code at the lab IdP.
    const login = await opencode(['providers', 'login', '-p', 'dev', '-m', 'Device code login'], { BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/Go to: http:\/\/127\.0\.0\.1:\d+\/device\?user_code=[A-Z]{4}-[A-Z]{4}/);
    expect(login.stdout).toMatch(/To log in to Lab Device, visit .* and enter the code [A-Z]{4}-[A-Z]{4}/);
    expect(login.stdout).toContain('Login successful');
    // OpenCode records the login; the credential itself is in our store, not in auth.json.
    const auth = JSON.parse(await readFile(join(state, 'data/opencode/auth.json'), 'utf8'));
    expect(auth).toEqual({ dev: { type: 'api', key: 'managed-by-opencode-oauth-machines' } });
    const records = await storedRecords();
    const dev = records.find((r) => r.providerId === 'dev');
    expect(dev.token.refreshToken).toBeTruthy();

    // The login fetched the model list: the provider is listed from now on.
    expect((await opencode(['models', 'dev'])).stdout).toContain('dev/glm-5');

    // No token or secret anywhere in OpenCode's logs, its auth file or what the commands printed.
    const visible = (await opencodeLogs()) + JSON.stringify(auth) + models.stdout + models.stderr + login.stdout + login.stderr;
    for (const record of records) {
      expect(visible).not.toContain(record.token.accessToken);
      if (record.token.refreshToken) expect(visible).not.toContain(record.token.refreshToken);
    }
    expect(visible).not.toContain(idp.clients.basic.client_secret);
  }, 60_000);

  it('runs a prompt through the provider fetch: a 401 on the chat request is renewed and replayed once', async () => {
    gateway.resetLog();
    const grantsBefore = idp.grantCount('client_credentials').successes;
    const run = opencode(['run', '--model', 'svc/lab-model', 'hello']);
    // Once the plugin's start-up model syncs (svc, and dev now that it is logged in) went through, the gateway
    // refuses the next request once: the first chat request.
    const synced = () => new Set(gateway.requests.filter((r) => r.path.endsWith('/models')).map((r) => r.client_id)).size === 2;
    const deadline = Date.now() + 20_000;
    while (!synced() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    gateway.rejectNext(1);
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Hello from the lab gateway (model lab-model); sub=- client=lab-basic');
    const chats = gateway.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.status);
    // Title and main request; the first got the 401 and was replayed exactly once.
    expect(chats).toEqual([401, 200, 200]);
    expect(idp.grantCount('client_credentials').successes).toBe(grantsBefore + 1);
  }, 40_000);
});

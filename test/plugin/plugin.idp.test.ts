import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startIdp, type Gateway, type Idp } from '../../lab/index.mjs';
import { LOGIN_LABELS, PLACEHOLDER_API_KEY } from '../../src/plugin/index.js';
import type { OpenCodeConfig } from '../../src/plugin/opencodeTypes.js';
import { chatInput, deviceProvider, loadPlugin, machineProvider, visibleText, type Harness } from './support.js';

/**
 * The plugin function called as OpenCode calls it, with a recording client, the real engine and the lab
 * (a real oidc-provider IdP and a gateway that introspects every bearer).
 */

let idp: Idp;
let gateway: Gateway;
const harnesses: Harness[] = [];
const secretsSeen = new Set<string>();

beforeAll(async () => {
  idp = await startIdp({ deviceInterval: 1 });
  gateway = await startGateway({ idp, models: ['glm-5', 'gpt-4o-mini', 'lab-model'] });
  for (const client of Object.values(idp.clients)) if (client.client_secret) secretsSeen.add(client.client_secret);
});
afterAll(async () => {
  await Promise.all([gateway?.stop(), idp?.stop()]);
});
afterEach(async () => {
  // No secret in anything the plugin showed or logged, in any test.
  for (const h of harnesses.splice(0)) {
    const text = visibleText(h);
    for (const secret of secretsSeen) expect(text, 'a secret reached a log, toast or stderr').not.toContain(secret);
    await h.cleanup();
  }
});

async function load(options: Parameters<typeof loadPlugin>[0] = {}) {
  const h = await loadPlugin(options);
  harnesses.push(h);
  return h;
}

async function storedTokens(storeDir: string) {
  const files = existsSync(storeDir) ? (await readdir(storeDir)).filter((f) => f.endsWith('.json')) : [];
  const records = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(storeDir, f), 'utf8'))));
  for (const r of records) {
    if (r.token?.accessToken) secretsSeen.add(r.token.accessToken);
    if (r.token?.refreshToken) secretsSeen.add(r.token.refreshToken);
  }
  return records;
}

describe('config hook', () => {
  it('registers each managed provider, merges discovered models with display names and keeps user names', async () => {
    const h = await load();
    const config: OpenCodeConfig = {
      provider: {
        svc: { ...machineProvider(idp, gateway), models: { 'lab-model': { name: 'My Lab Model' } } },
        other: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k' } },
      },
    };
    await h.hooks.config!(config);
    const svc = config.provider!.svc!;
    expect(svc.npm).toBe('@ai-sdk/openai-compatible');
    expect(svc.name).toBe('Lab Service');
    expect(svc.options).toMatchObject({ baseURL: gateway.baseURL, apiKey: PLACEHOLDER_API_KEY });
    expect(typeof svc.options!.fetch).toBe('function');
    expect(svc.models).toEqual({
      'glm-5': { name: 'GLM 5' },
      'gpt-4o-mini': { name: 'GPT 4o Mini' },
      'lab-model': { name: 'My Lab Model' },
    });
    // The client secret is gone from what OpenCode keeps; nothing else was touched.
    expect(JSON.stringify(config)).not.toContain(idp.clients.basic.client_secret);
    expect(config.provider!.other).toEqual({ npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k' } });
    expect(h.logs.map((l) => l.message)).toEqual(
      expect.arrayContaining(['opencode-oauth-machines: plugin_loaded', 'opencode-oauth-machines: providers_registered']),
    );
    const tokens = await storedTokens(h.storeDir);
    expect(tokens).toHaveLength(1);
    expect(JSON.stringify(config)).not.toContain(tokens[0].token.accessToken);

    // OpenCode may run the hook again on the same object: same session, secrets restored internally.
    const session = h.plugins.session();
    await h.hooks.config!(config);
    expect(h.plugins.session()).toBe(session);
    expect(config.provider!.svc!.models).toHaveProperty('glm-5');
    expect(JSON.stringify(config)).not.toContain(idp.clients.basic.client_secret);
  });

  it('reports an invalid provider block naming the provider and the field, and every other provider still works', async () => {
    const h = await load();
    const config: OpenCodeConfig = {
      provider: {
        broken: machineProvider(idp, gateway, { clientSecret: undefined, redirectPort: 70_000 }),
        svc: machineProvider(idp, gateway),
      },
    };
    await h.hooks.config!(config);
    const issues = h.logs.filter((l) => l.message === 'opencode-oauth-machines: config_issue');
    expect(issues.map((l) => [l.level, l.extra?.providerId, l.extra?.field])).toEqual(
      expect.arrayContaining([
        ['error', 'broken', 'redirectPort'],
        ['error', 'broken', 'clientSecret'],
      ]),
    );
    // `opencode run` shows it on stderr; the TUI would get a toast.
    expect(h.stderr.join('')).toMatch(/config error: broken: redirectPort must be an integer in \[1, 65535\] \(received 70000\)/);
    expect(config.provider!.svc!.models).toHaveProperty('lab-model');
    const headers: Record<string, string> = {};
    await h.hooks['chat.headers']!(chatInput('svc'), { headers });
    expect(headers.Authorization).toMatch(/^Bearer /);
    // A request to the broken provider fails with the issue, instead of a bare 401 from the gateway.
    await expect(h.hooks['chat.headers']!(chatInput('broken'), { headers: {} })).rejects.toThrow(/broken: .*fix this provider's block/);
  });

  it("materialises providers given in the plugin's tuple options (shape B), secrets kept out of the options", async () => {
    const pluginOptions = {
      servers: [
        {
          id: 'svcb',
          name: 'Shape B',
          issuer: idp.issuer,
          baseURL: gateway.baseURL,
          clientId: idp.clients.post.client_id,
          clientSecret: idp.clients.post.client_secret,
          scopes: 'api:read',
          authFlow: 'client_credentials',
          nameOverrides: { 'glm-5': 'Zhipu GLM-5' },
        },
      ],
    };
    const h = await load({ pluginOptions });
    const config: OpenCodeConfig = {};
    await h.hooks.config!(config);
    expect(config.provider!.svcb).toMatchObject({ name: 'Shape B', npm: '@ai-sdk/openai-compatible', options: { baseURL: gateway.baseURL } });
    expect(config.provider!.svcb!.models).toMatchObject({ 'glm-5': { name: 'Zhipu GLM-5' }, 'gpt-4o-mini': { name: 'GPT 4o Mini' } });
    expect(JSON.stringify(pluginOptions)).not.toContain(idp.clients.post.client_secret);
    const headers: Record<string, string> = {};
    await h.hooks['chat.headers']!(chatInput('svcb'), { headers });
    expect(headers.Authorization).toMatch(/^Bearer /);
    await storedTokens(h.storeDir);
  });

  it('shows config errors as a toast in the TUI, not on stderr', async () => {
    const h = await load({ argv: ['bun', '/$bunfs/root/opencode'] });
    await h.hooks.config!({ provider: { broken: machineProvider(idp, gateway, { authFlow: 'magic' }) } });
    expect(h.stderr.join('')).toBe('');
    expect(h.toasts.map((t) => t.message)).toEqual([expect.stringMatching(/^config error: broken: authFlow must be one of/)]);
  });

  it('persists the model list so a user-flow provider is listed before its login, from the next start on', async () => {
    const first = await load();
    const config: OpenCodeConfig = { provider: { dev: deviceProvider(idp, gateway) } };
    const deviceLoginsBefore = idp.counters.deviceAuthorization.requests;
    await first.hooks.config!(config);
    // No token, no login: nothing to list yet but the stand-in, and no login was started on our own.
    expect(config.provider!.dev!.models).toEqual({ login: { name: 'Log in to Lab Device with /connect' } });
    expect(idp.counters.deviceAuthorization.requests).toBe(deviceLoginsBefore);

    // Log in through the auth hook (what `opencode auth login` calls): the list is fetched and persisted.
    const auth = first.hooks.auth!;
    expect(auth.provider).toBe('dev');
    expect(auth.methods.map((m) => m.label)).toEqual([LOGIN_LABELS.device_code]);
    const started = await auth.methods[0]!.authorize();
    expect(started.url).toMatch(new RegExp(`^${idp.issuer}/device`));
    expect(started.instructions).toMatch(/enter the code [A-Z]{4}-[A-Z]{4}/);
    await expect(started.callback()).resolves.toEqual({ type: 'success', key: PLACEHOLDER_API_KEY });
    const tokens = await storedTokens(first.storeDir);
    expect(tokens[0].token.refreshToken).toBeTruthy();
    // The list is written when the sync after the login lands (atomically, through a .tmp file): wait for it, bounded.
    const cacheDir = `${first.storeDir}.models`;
    const cachedName = async () => (await readdir(cacheDir).catch(() => [] as string[])).find((name) => name.startsWith('dev-') && name.endsWith('.json'));
    for (let i = 0; i < 100 && !(await cachedName()); i++) await new Promise((r) => setTimeout(r, 50));
    const cacheFile = join(cacheDir, (await cachedName())!);
    const cached = JSON.parse(await readFile(cacheFile, 'utf8'));
    expect(cached.models.map((m: { id: string }) => m.id)).toEqual(['glm-5', 'gpt-4o-mini', 'lab-model']);

    // A later process whose gateway is unreachable still lists the models: the warm-up is bounded and the
    // list comes from disk (rewritten here for a dead port, since a list is tied to the URL it came from).
    const second = await load({ deps: { storeDirFor: () => first.storeDir } });
    const deadBase = 'http://127.0.0.1:9/v1';
    await writeFile(cacheFile, JSON.stringify({ ...cached, baseURL: deadBase }));
    const offline: OpenCodeConfig = { provider: { dev: deviceProvider(idp, gateway, { warmupTimeoutMs: 500 }) } };
    (offline.provider!.dev!.options as Record<string, unknown>).baseURL = deadBase;
    await second.hooks.config!(offline);
    expect(Object.keys(offline.provider!.dev!.models!)).toEqual(['glm-5', 'gpt-4o-mini', 'lab-model']);
    expect(second.logs.find((l) => l.message.endsWith('models_discovered'))?.extra).toMatchObject({ providerId: 'dev', source: 'cache' });
  });
});

describe('chat.headers', () => {
  it('injects the bearer only for managed providers, for the title agent too', async () => {
    const h = await load();
    await h.hooks.config!({ provider: { svc: machineProvider(idp, gateway) } });
    const managed: Record<string, string> = { 'x-session-id': 's' };
    await h.hooks['chat.headers']!(chatInput('svc', 'title'), { headers: managed });
    const [record] = await storedTokens(h.storeDir);
    expect(managed).toEqual({ 'x-session-id': 's', Authorization: `Bearer ${record.token.accessToken}` });
    const unmanaged: Record<string, string> = {};
    await h.hooks['chat.headers']!(chatInput('anthropic'), { headers: unmanaged });
    expect(unmanaged).toEqual({});
  });

  it('where no login may start, the request fails naming the provider and the exact command; nothing is sent', async () => {
    const command = 'run `opencode auth login`, pick "Lab Device" and "Device code login" (or `opencode providers login -p dev -m "Device code login"`)';
    const cases = [
      { env: { CI: 'true', BROWSER: 'firefox' }, says: `[dev] not logged in to Lab Device — CI is set, and CI cannot answer a device_code login: use a machine flow here` },
      { env: { OPENCODE_OAUTH_INTERACTIVE: '0', BROWSER: 'firefox' }, says: `[dev] not logged in to Lab Device — ${command} (OPENCODE_OAUTH_INTERACTIVE=0` },
      { env: {}, says: `[dev] not logged in to Lab Device — ${command} (nobody can answer a login here` },
    ];
    for (const { env, says } of cases) {
      const h = await load({ deps: { env, platform: 'linux' } });
      const deviceLoginsBefore = idp.counters.deviceAuthorization.requests;
      const chatsBefore = gateway.counters.chatCompletions;
      await h.hooks.config!({ provider: { dev: deviceProvider(idp, gateway) } });
      await expect(h.hooks['chat.headers']!(chatInput('dev'), { headers: {} })).rejects.toThrow(says);
      expect(idp.counters.deviceAuthorization.requests, JSON.stringify(env)).toBe(deviceLoginsBefore);
      expect(gateway.counters.chatCompletions).toBe(chatsBefore);
      expect(h.toasts).toEqual([]);
    }
  });

  it('headless with a browser to open (BROWSER set, no TTY, no CI): the request logs in; the code goes to stderr, no toast', async () => {
    const h = await load({ deps: { env: { BROWSER: 'set' }, platform: 'linux' } });
    const before = idp.counters.deviceAuthorization.requests;
    await h.hooks.config!({ provider: { dev: deviceProvider(idp, gateway) } });
    const headers: Record<string, string> = {};
    await h.hooks['chat.headers']!(chatInput('dev'), { headers });
    expect(headers.Authorization).toMatch(/^Bearer /);
    expect(idp.counters.deviceAuthorization.requests - before).toBe(1);
    expect(h.stderr.join('')).toMatch(/\[opencode-oauth-machines\] dev: To log in to Lab Device, visit http:\/\/127\.0\.0\.1:\d+\/device and enter the code [A-Z]{4}-[A-Z]{4}/);
    expect(h.stderr.join('')).toContain('[opencode-oauth-machines] Logged in to Lab Device\n');
    expect(h.toasts).toEqual([]);
    await storedTokens(h.storeDir);
  });

  it('in the TUI the request logs in with nothing on stderr: one toast with the code, replaced by "Logged in to Lab Device"', async () => {
    const h = await load({ deps: { env: {} }, argv: ['bun', '/$bunfs/root/opencode'] });
    await h.hooks.config!({ provider: { dev: deviceProvider(idp, gateway) } });
    const headers: Record<string, string> = {};
    await h.hooks['chat.headers']!(chatInput('dev'), { headers });
    expect(headers.Authorization).toMatch(/^Bearer /);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.stderr).toEqual([]);
    expect(h.toasts.map((t) => t.variant)).toEqual(['info', 'success']);
    expect(h.toasts[0]!.message).toMatch(/^To log in to Lab Device, visit http:\/\/127\.0\.0\.1:\d+\/device and enter the code [A-Z]{4}-[A-Z]{4} \(valid until [^)]+\)\.\nhttp:\/\/\S+user_code=/);
    expect(h.toasts[0]!.message.match(/until/g)).toHaveLength(1);
    expect(h.toasts[1]!.message).toBe('Logged in to Lab Device');
    await storedTokens(h.storeDir);
  });

  it('before the first login a provider with no models gets one stand-in that says to log in; a request on it sends nothing', async () => {
    const h = await load({ deps: { env: { OPENCODE_OAUTH_INTERACTIVE: '1' } } });
    const config: OpenCodeConfig = { provider: { dev: deviceProvider(idp, gateway) } };
    await h.hooks.config!(config);
    expect(config.provider!.dev!.models).toEqual({ login: { name: 'Log in to Lab Device with /connect' } });
    const before = idp.counters.deviceAuthorization.requests;
    await expect(h.hooks['chat.headers']!({ model: { id: 'login', providerID: 'dev' } }, { headers: {} })).rejects.toThrow(
      '[dev] "Log in to Lab Device with /connect" only stands in until Lab Device lists its models: log in with /connect',
    );
    expect(idp.counters.deviceAuthorization.requests).toBe(before);

    // opencode.json's `model` names one: that one stands in instead; declared models are left as they are
    const named: OpenCodeConfig = { model: 'dev/glm-5', small_model: 'dev/gpt-4o-mini', provider: { dev: deviceProvider(idp, gateway) } };
    await h.hooks.config!(named);
    expect(named.provider!.dev!.models).toEqual({ 'glm-5': { name: 'GLM 5' }, 'gpt-4o-mini': { name: 'GPT 4o Mini' } });
    const declared: OpenCodeConfig = { provider: { dev: { ...deviceProvider(idp, gateway), models: { mine: { name: 'Mine' } } } } };
    await h.hooks.config!(declared);
    expect(declared.provider!.dev!.models).toEqual({ mine: { name: 'Mine' } });
  });

  it('after the login the stand-in is gone from the next config (OpenCode re-runs it after /connect)', async () => {
    const h = await load({ deps: { env: { OPENCODE_OAUTH_INTERACTIVE: '1' } } });
    const config: OpenCodeConfig = { provider: { dev: deviceProvider(idp, gateway) } };
    await h.hooks.config!(config);
    expect(Object.keys(config.provider!.dev!.models!)).toEqual(['login']);
    await h.hooks['chat.headers']!(chatInput('dev'), { headers: {} });
    await storedTokens(h.storeDir);
    // the same object again (a second run of the hook) and a fresh one (the rebuilt instance)
    await h.hooks.config!(config);
    expect(Object.keys(config.provider!.dev!.models!).sort()).toEqual(['glm-5', 'gpt-4o-mini', 'lab-model']);
    const fresh: OpenCodeConfig = { provider: { dev: deviceProvider(idp, gateway) } };
    await h.hooks.config!(fresh);
    expect(Object.keys(fresh.provider!.dev!.models!).sort()).toEqual(['glm-5', 'gpt-4o-mini', 'lab-model']);
  });
});

describe('401 recovery through the provider fetch', () => {
  it('renews a token the IdP revoked and replays the request exactly once', async () => {
    const h = await load();
    const config: OpenCodeConfig = { provider: { svc: machineProvider(idp, gateway) } };
    await h.hooks.config!(config);
    const [record] = await storedTokens(h.storeDir);
    expect(idp.revokeToken(record.token.accessToken)).toBeTruthy();
    const acquiredBefore = idp.grantCount('client_credentials').successes;
    gateway.resetLog();

    const fetch = config.provider!.svc!.options!.fetch as typeof globalThis.fetch;
    const response = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PLACEHOLDER_API_KEY}` },
      body: JSON.stringify({ model: 'lab-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toMatch(/client=lab-basic/);
    expect(gateway.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(idp.grantCount('client_credentials').successes).toBe(acquiredBefore + 1);
    await storedTokens(h.storeDir);
  });
});

describe('tools', () => {
  it('oauth_status shows state, flow, lifetime and errors without a secret; oauth_logout revokes and deletes', async () => {
    const h = await load();
    await h.hooks.config!({ provider: { svc: machineProvider(idp, gateway), dev: deviceProvider(idp, gateway) } });
    const tools = h.hooks.tool!;
    const status = await tools.oauth_status!.execute({}, {});
    expect(status).toMatch(/^svc: valid, flow client_credentials, expires in \d+m\d+s, token usable, 3 models$/m);
    expect(status).toMatch(/^dev: needsReauth, flow device_code, no token, token not usable, 0 models, last error interaction_required: /m);
    const [record] = await storedTokens(h.storeDir);
    expect(status).not.toContain(record.token.accessToken);

    const refreshed = await tools.oauth_refresh!.execute({ provider: 'svc' }, {});
    expect(refreshed).toMatch(/^svc: renewed \(generation 1 → 2, expires in/);
    expect(await tools.oauth_refresh!.execute({ provider: 'dev' }, {})).toBe('dev: not logged in; run `opencode auth login` and pick dev');
    expect(await tools.oauth_status!.execute({ provider: 'nope' }, {})).toMatch(/nope is not an OAuth provider of this plugin \(managed: svc, dev\)/);

    const revocationsBefore = idp.counters.revocation;
    const [current] = await storedTokens(h.storeDir);
    expect(await tools.oauth_logout!.execute({ provider: 'svc' }, {})).toMatch(/^svc: logged out/);
    expect(idp.counters.revocation).toBe(revocationsBefore + 1);
    expect((await idp.introspect(current.token.accessToken)).active).toBe(false);
    expect(await storedTokens(h.storeDir)).toEqual([]);
    expect(await tools.oauth_status!.execute({ provider: 'svc' }, {})).toMatch(/^svc: evicted, flow client_credentials, no token/);
  });
});

describe('tool.execute.before', () => {
  it("refuses the agent's tools access to the token store and to the private key file, and lets the rest through", async () => {
    const h = await load();
    const keyFile = join(h.storeDir, '..', 'client-key.json');
    await writeFile(keyFile, JSON.stringify(idp.clients.privateKeyJwt.privateJwk), { mode: 0o600 });
    await h.hooks.config!({
      provider: {
        svc: machineProvider(idp, gateway),
        pk: machineProvider(idp, gateway, {
          clientId: idp.clients.privateKeyJwt.client_id,
          clientSecret: undefined,
          clientAuthMethod: 'private_key_jwt',
          privateKey: { file: keyFile },
        }),
      },
    });
    const [record] = await storedTokens(h.storeDir);
    const guard = h.hooks['tool.execute.before']!;
    const storeFile = join(h.storeDir, (await readdir(h.storeDir)).find((f) => f.endsWith('.json'))!);
    await expect(guard({ tool: 'read' }, { args: { filePath: storeFile } })).rejects.toThrow(/refused — the read tool may not access the OAuth token store/);
    await expect(guard({ tool: 'bash' }, { args: { command: `cat ${keyFile} | base64`, description: 'show key' } })).rejects.toThrow(
      /refused — the bash tool may not access the private key of pk/,
    );
    await expect(guard({ tool: 'grep' }, { args: { pattern: 'refresh', path: join(h.storeDir, '..') } })).rejects.toThrow(/token store/);
    await expect(guard({ tool: 'read' }, { args: { filePath: join(h.storeDir, '..', 'notes.md') } })).resolves.toBeUndefined();
    await expect(guard({ tool: 'bash' }, { args: { command: 'ls -la' } })).resolves.toBeUndefined();
    expect(h.logs.filter((l) => l.message.endsWith('tool_refused'))).toHaveLength(3);
    expect(visibleText(h)).not.toContain(record.token.accessToken);
    secretsSeen.add(String(idp.clients.privateKeyJwt.privateJwk.d));
  });
});

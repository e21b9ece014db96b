import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSER_SCRIPT, type Gateway, type Idp } from '../../lab/index.mjs';
import { createOAuthMachinesPlugin, type OAuthMachinesPlugins, type PluginDeps } from '../../src/plugin/index.js';
import type { Hooks, OpencodeClientLike } from '../../src/plugin/opencodeTypes.js';

/** The SDK client as OpenCode binds it, reduced to what the plugin calls; records every body. */
export function fakeClient() {
  const logs: { service: string; level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const toasts: { title?: string; message: string; variant: string }[] = [];
  const client: OpencodeClientLike = {
    app: {
      async log({ body }) {
        logs.push(body);
        return { data: true };
      },
    },
    tui: {
      async showToast({ body }) {
        toasts.push(body);
        return { data: true };
      },
    },
  };
  return { client, logs, toasts };
}

export const browserEnv = () => ({ ...process.env, BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` });

export interface Harness {
  plugins: OAuthMachinesPlugins;
  hooks: Hooks;
  logs: ReturnType<typeof fakeClient>['logs'];
  toasts: ReturnType<typeof fakeClient>['toasts'];
  stderr: string[];
  storeDir: string;
  cleanup(): Promise<void>;
}

/** The plugin as OpenCode would load it: one factory, one plugin call, with a fake client and an isolated store. */
export async function loadPlugin(options: { pluginOptions?: Record<string, unknown>; deps?: Partial<PluginDeps>; argv?: string[] } = {}): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), 'plugin-'));
  const storeDir = join(root, 'tokens');
  const stderr: string[] = [];
  const { client, logs, toasts } = fakeClient();
  const plugins = createOAuthMachinesPlugin({
    env: { CI: 'true' },
    argv: options.argv ?? ['bun', '/$bunfs/root/opencode', 'run', 'hello'],
    tty: { stdin: false, stderr: false },
    writeStderr: (text) => stderr.push(text),
    storeDirFor: () => storeDir,
    flowDeps: { env: browserEnv() },
    ...options.deps,
  });
  const hooks = await plugins.plugin({ client, directory: root, worktree: root }, options.pluginOptions);
  return {
    plugins,
    hooks,
    logs,
    toasts,
    stderr,
    storeDir,
    async cleanup() {
      await hooks.dispose?.();
      plugins.shutdown();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function machineProvider(idp: Idp, gateway: Gateway, extra: Record<string, unknown> = {}) {
  return {
    name: 'Lab Service',
    options: {
      baseURL: gateway.baseURL,
      oauth2: {
        issuer: idp.issuer,
        clientId: idp.clients.basic.client_id,
        clientSecret: idp.clients.basic.client_secret,
        clientAuthMethod: 'client_secret_basic',
        scopes: ['api:read'],
        authFlow: 'client_credentials',
        ...extra,
      },
    },
  };
}

export function deviceProvider(idp: Idp, gateway: Gateway, extra: Record<string, unknown> = {}) {
  return {
    name: 'Lab Device',
    options: {
      baseURL: gateway.baseURL,
      oauth2: {
        issuer: idp.issuer,
        clientId: idp.clients.native.client_id,
        scopes: ['openid', 'offline_access', 'api:read'],
        authFlow: 'device_code',
        ...extra,
      },
    },
  };
}

export const chatInput = (providerID: string, agent = 'build') => ({ model: { id: 'lab-model', providerID }, agent });

/** Every string the plugin made visible: log bodies, toasts, stderr. */
export function visibleText(h: Pick<Harness, 'logs' | 'toasts' | 'stderr'>): string {
  return JSON.stringify(h.logs) + JSON.stringify(h.toasts) + h.stderr.join('');
}

import { mergeModels, type ModelEntry } from '../adapters/models/index.js';
import { fromOpenCodeLogLevel, parseOpenCodeConfig, type ConfigIssue, type ProviderConfig } from '../config/index.js';
import { needsLogin, TokenError } from '../errors.js';
import type { FlowDeps, FlowNotice } from '../flows/index.js';
import { isUserFlow } from '../machines/token.js';
import type { AuthHook, ChatModelInput, Hooks, OpenCodeConfig, Plugin, PluginInput } from './opencodeTypes.js';
import { createPluginLogger, type PluginLogger } from './pluginLogger.js';
import { PLACEHOLDER_API_KEY, registerProvider, SecretStash } from './providerEntry.js';
import { createSession, sessionSignature, storeDirOf, type Session } from './session.js';
import { createToolGuard } from './toolGuard.js';
import { loginDecision, refusalMessage } from './loginPolicy.js';
import { LOGIN_STAND_IN, loginStandInName, standInModels, withoutStandIns } from './standInModels.js';
import { createUserSurface, detectSurface, requestedModel, type UserSurface } from './userSurface.js';

/**
 * The OpenCode shell: hooks become engine calls and machine events, snapshots become hook outputs.
 * No OAuth logic lives here.
 */

/** How many providers `opencode auth login` can offer: one per exported plugin function (see src/index.ts). */
export const LOGIN_SLOTS = 8;

export const LOGIN_LABELS = {
  authorization_code: 'Browser login (authorization code)',
  device_code: 'Device code login',
} as const;

const loginLabel = (provider: ProviderConfig): string => LOGIN_LABELS[provider.flow as keyof typeof LOGIN_LABELS] ?? 'OAuth login';

/** How long `opencode auth login` waits for the flow to show its URL or code before returning to OpenCode. */
const FIRST_NOTICE_WAIT_MS = 20_000;
/** After a login, the model list is fetched (bounded) so the provider shows its models on the next start. */
const POST_LOGIN_SYNC_MS = 10_000;

export interface PluginDeps {
  env?: Record<string, string | undefined>;
  argv?: readonly string[];
  tty?: { stdin: boolean; stderr: boolean };
  /** For the "can a browser be opened here" rule (default: process.platform). */
  platform?: NodeJS.Platform;
  writeStderr?: (text: string) => void;
  now?: () => number;
  /** Where tokens are stored (default: the per-OS cache dir, `cacheNamespace` from the config). */
  storeDirFor?: (namespace: string) => string;
  flowDeps?: Partial<Omit<FlowDeps, 'http'>>;
  importModule?: (name: string) => Promise<unknown>;
}

export interface OAuthMachinesPlugins {
  /** The main plugin: config, chat.headers, tools, the tool guard, and login slot 0. */
  plugin: Plugin;
  /** Plugins that only carry the `auth` entry of the 2nd … LOGIN_SLOTS-th interactive provider. */
  loginSlots: Plugin[];
  /** For tests and embedders: the running session, if the config hook ran. */
  session(): Session | undefined;
  /** Stops the engine and the model syncs (the `dispose` of the last instance does the same). */
  shutdown(): void;
}


/** How a credential's headers land on a request: OpenCode's spelling, and the names to replace in any case. */
interface HeaderPlan {
  readonly source: Readonly<Record<string, string>>;
  readonly names: string[];
  readonly values: string[];
  readonly lowerNames: Set<string>;
}

const SETTLED: Promise<void> = Promise.resolve();

// Per headers object (the engine builds one per published token): planned once, not on every request.
const headerPlans = new WeakMap<object, HeaderPlan>();
function headerPlanOf(headers: Readonly<Record<string, string>>): HeaderPlan {
  let plan = headerPlans.get(headers);
  if (!plan) {
    const names = Object.keys(headers).map((name) => (name.toLowerCase() === 'authorization' ? 'Authorization' : name));
    plan = { source: headers, names, values: Object.values(headers), lowerNames: new Set(names.map((name) => name.toLowerCase())) };
    headerPlans.set(headers, plan);
  }
  return plan;
}

export function createOAuthMachinesPlugin(deps: PluginDeps = {}): OAuthMachinesPlugins {
  const env = deps.env ?? process.env;
  const now = deps.now ?? Date.now;
  let session: Session | undefined;
  let building: Promise<Session> | undefined;
  let logger: PluginLogger | undefined;
  let surface: UserSurface | undefined;
  let instances = 0;
  let directory = process.cwd();
  const stash = new SecretStash();
  const shownIssues = new Set<string>();
  const authHooks = new Map<string, AuthHook>();

  const log = () => logger!;
  const where = detectSurface(deps.argv);
  const decideLogin = () =>
    loginDecision({ env, surface: where, ...(deps.tty ? { tty: deps.tty } : {}), ...(deps.platform ? { platform: deps.platform } : {}) });
  const mayLogin = () => decideLogin().allowed;
  const nameOf = (providerId: string) => session?.providers.get(providerId)?.name ?? providerId;

  const reportIssue = (issue: ConfigIssue) => {
    const key = `${issue.severity}|${issue.message}`;
    const fields = { providerId: issue.providerId, source: issue.source, field: issue.field, issue: issue.message };
    if (issue.severity === 'error') log().error('config_issue', fields);
    else log().warn('config_issue', fields);
    if (issue.severity === 'error' && !shownIssues.has(key)) surface?.showIssue(issue);
    shownIssues.add(key);
  };

  const currentSession = () => session;

  /** A fetch for OpenCode's provider options that always goes through the session running now. */
  const fetchFor = (providerId: string): typeof fetch =>
    (async (input: Request | string | URL, init?: RequestInit) => {
      const running = session;
      log().debug('upstream_request', { providerId });
      if (!running?.providers.has(providerId)) return fetch(input, init);
      return running.engine.fetch(providerId, { token: { interactive: false } })(input, init);
    }) as typeof fetch;

  /** An interactive login through the engine (single flight), then a model resync. */
  async function login(providerId: string, via: string, onNotice?: (notice: FlowNotice) => void): Promise<void> {
    const running = session;
    if (!running) throw new Error('opencode-oauth-machines: not configured yet');
    log().info('login_started', { providerId, via });
    try {
      await running.engine.login(providerId, onNotice ? { onNotice } : {});
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log().warn('login_failed', { providerId, via, errorCode: error instanceof TokenError ? error.code : undefined, message });
      surface?.loginFailed(providerId, message);
      throw error;
    }
    log().info('login_succeeded', { providerId, via });
    surface?.loginSucceeded(providerId, nameOf(providerId));
    await resync(running, providerId);
  }

  async function resync(running: Session, providerId: string) {
    const runner = running.runners.get(providerId);
    if (!runner) return;
    runner.actor.send({ type: 'SYNC.REQUESTED' });
    await runner.firstSync(POST_LOGIN_SYNC_MS);
  }

  function authHookFor(provider: ProviderConfig): AuthHook {
    const cached = authHooks.get(provider.id);
    if (cached) return cached;
    const label = loginLabel(provider);
    const hook: AuthHook = {
      provider: provider.id,
      // Runs when auth.json holds our placeholder for this provider: wire the provider like the config hook does.
      loader: async () => ({ apiKey: PLACEHOLDER_API_KEY, fetch: fetchFor(provider.id) }),
      methods: [
        {
          type: 'oauth',
          label,
          async authorize() {
            const running = session;
            if (!running?.providers.has(provider.id)) throw new Error(`${provider.id} is not configured for OAuth login`);
            // OpenCode's login command prints the first notice (URL, device code) itself; later ones are shown as usual.
            let deliverFirst: ((notice: FlowNotice) => void) | undefined;
            const firstNotice = new Promise<FlowNotice>((resolve) => (deliverFirst = resolve));
            const done = login(provider.id, 'auth', (notice) => {
              const deliver = deliverFirst;
              deliverFirst = undefined;
              if (deliver) deliver(notice);
              else surface?.showLogin({ ...notice, providerId: provider.id });
            });
            const settled = done.then(
              () => undefined,
              () => undefined,
            );
            let timer: ReturnType<typeof setTimeout> | undefined;
            const notice = await Promise.race([
              firstNotice,
              settled,
              new Promise<undefined>((resolve) => {
                timer = setTimeout(() => resolve(undefined), FIRST_NOTICE_WAIT_MS);
              }),
            ]);
            clearTimeout(timer);
            deliverFirst = undefined;
            return {
              url: notice?.url ?? '',
              instructions: notice?.text ?? `Logging in to ${provider.name} (${label})…`,
              method: 'auto' as const,
              async callback() {
                try {
                  await done;
                  // OpenCode records a login per provider; the credential itself stays in our store.
                  return { type: 'success' as const, key: PLACEHOLDER_API_KEY };
                } catch (error) {
                  // OpenCode only says that it failed: the reason goes to stderr (headless) or a toast (TUI).
                  surface?.showError(error instanceof Error ? error.message : `login to ${provider.id} failed`);
                  return { type: 'failed' as const };
                }
              },
            };
          },
        },
      ],
    };
    authHooks.set(provider.id, hook);
    return hook;
  }

  /** The k-th provider with an interactive flow: what login slot k offers (read after the config hook ran). */
  const authForSlot = (slot: number): AuthHook | undefined => {
    const interactive = [...(session?.providers.values() ?? [])].filter((p) => isUserFlow(p.flow));
    const provider = interactive[slot];
    return provider ? authHookFor(provider) : undefined;
  };

  async function ensureSession(config: OpenCodeConfig, options: unknown): Promise<Session> {
    stash.restore(config, options);
    const parsed = parseOpenCodeConfig(config, { pluginOptions: options });
    log().setLevel(parsed.runtime.logLevel);
    for (const issue of [...parsed.errors, ...parsed.warnings]) reportIssue(issue);
    const signature = sessionSignature(parsed, storeDirOf(parsed, { env, ...(deps.storeDirFor ? { storeDirFor: deps.storeDirFor } : {}) }), env);
    if (session?.signature === signature) {
      log().debug('session_reused', { providers: [...session.providers.keys()].join(',') });
      return session;
    }
    if (building) await building.catch(() => undefined);
    if (session?.signature === signature) return session;
    session?.stop();
    session = undefined;
    authHooks.clear();
    building = createSession(parsed, signature, {
      env,
      logger: log(),
      now,
      showLogin: (notice) => surface?.showLogin(notice),
      ...(deps.storeDirFor ? { storeDirFor: deps.storeDirFor } : {}),
      ...(deps.flowDeps ? { flowDeps: deps.flowDeps } : {}),
      ...(deps.importModule ? { importModule: deps.importModule } : {}),
    });
    try {
      session = await building;
    } finally {
      building = undefined;
    }
    for (const issue of session.engine.issues) reportIssue(issue);
    log().debug('session_started', { providers: [...session.providers.keys()].join(','), storeDir: session.storeDir });
    return session;
  }

  async function configHook(config: OpenCodeConfig, options: unknown) {
    try {
      await registerAll(config, options);
    } catch (error) {
      // Never a crash of the hook: OpenCode would only log it, and the user would see providers vanish silently.
      const message = error instanceof Error ? error.message : String(error);
      log().error('config_hook_failed', { message });
      surface?.showError(`the OAuth providers could not be set up: ${message}`);
    }
  }

  async function registerAll(config: OpenCodeConfig, options: unknown) {
    const hostLevel = fromOpenCodeLogLevel(config.logLevel);
    if (hostLevel) log().setLevel(hostLevel);
    const running = await ensureSession(config, options);
    // Warm-up: the first sync of each provider, in parallel, each bounded; never interactive.
    await Promise.all(
      [...running.providers.values()].map((provider) =>
        provider.opencode.warmupTimeoutMs > 0 ? running.runners.get(provider.id)?.firstSync(provider.opencode.warmupTimeoutMs) : undefined,
      ),
    );
    for (const provider of running.providers.values()) {
      try {
        const runner = running.runners.get(provider.id);
        const discovered = runner?.models() ?? [];
        const existing = withoutStandIns(config.provider?.[provider.id]?.models);
        const { models } = mergeModels(existing, discovered, provider.opencode.nameOverrides);
        // No list known yet (a user flow before its first login): OpenCode hides a provider without models (in
        // /models and /connect) and rejects an unknown `--model` before any hook runs. Stand-ins keep it listed.
        if (discovered.length === 0) {
          const standIns = standInModels(provider, {
            declared: models,
            configModels: [config.model, config.small_model],
            requested: requestedModel(deps.argv),
            userFlow: isUserFlow(provider.flow),
          });
          for (const [modelId, entry] of Object.entries(standIns)) {
            models[modelId] = entry;
            log().info('model_placeholder', { providerId: provider.id, modelId });
          }
        }
        registerProvider(config, provider, models as Record<string, ModelEntry>, fetchFor(provider.id));
        log().info('models_discovered', {
          providerId: provider.id,
          count: discovered.length,
          source: runner?.fresh() ? 'sync' : discovered.length > 0 ? 'cache' : 'none',
          listed: Object.keys(models).length,
        });
      } catch (error) {
        // One provider's odd config entry (e.g. a non-object `models`) never takes the others down.
        log().error('provider_register_failed', { providerId: provider.id, error: error instanceof Error ? error.name : typeof error });
      }
    }
    stash.strip(config, options);
    log().info('providers_registered', {
      providers: [...running.providers.keys()].join(','),
      broken: [...running.broken.keys()].join(','),
    });
  }

  let lastPlan: HeaderPlan | undefined;
  /**
   * Not an async function: with a servable token nothing here waits, and every such call returns this one
   * settled promise instead of allocating its own. Failures still arrive as rejections, never as throws.
   */
  function chatHeaders(input: ChatModelInput, output: { headers: Record<string, string> }): Promise<void> {
    try {
      const providerId = input.model?.providerID;
      const running = session;
      if (!providerId || !running) return SETTLED;
      const broken = running.broken.size > 0 ? running.broken.get(providerId) : undefined;
      if (broken) throw new Error(`opencode-oauth-machines: ${broken.message} — fix this provider's block in opencode.json`);
      const provider = running.providers.get(providerId);
      if (!provider) return SETTLED;
      if (input.model?.id === LOGIN_STAND_IN && !(running.runners.get(providerId)?.models() ?? []).some((m) => m.id === LOGIN_STAND_IN)) {
        throw new Error(
          `[${providerId}] "${loginStandInName(provider.name)}" only stands in until ${provider.name} lists its models: log in with /connect (or \`opencode auth login\`), then choose a model in /models`,
        );
      }
      // The hot path: a servable token's headers, read synchronously (no await, no actor round trip).
      const headers = running.engine.currentHeaders(providerId);
      if (!headers) return acquireHeaders(running, provider).then((acquired) => applyHeaders(provider, acquired, output));
      applyHeaders(provider, headers, output);
      return SETTLED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function applyHeaders(provider: ProviderConfig, headers: Readonly<Record<string, string>>, output: { headers: Record<string, string> }) {
    // Whichever request gets the token first (the title and the main request share one login) closes the
    // login's notice; without a notice up this does nothing.
    surface?.loginSucceeded(provider.id, provider.name);
    // The last plan first: with one provider (or one busy one) the WeakMap is not even asked.
    const plan = lastPlan?.source === headers ? lastPlan : (lastPlan = headerPlanOf(headers));
    // One spelling per header: OpenCode merges these last over the SDK's `Authorization: Bearer <apiKey>`.
    const out = output.headers;
    for (const key in out) if (plan.lowerNames.has(key.toLowerCase())) delete out[key];
    for (let i = 0; i < plan.names.length; i++) out[plan.names[i]!] = plan.values[i]!;
  }

  /** No servable token: renew (or, for a user flow the policy allows, log in) and wait for it. */
  async function acquireHeaders(running: Session, provider: ProviderConfig): Promise<Readonly<Record<string, string>>> {
    const providerId = provider.id;
    try {
      return await running.engine.headers(providerId, { interactive: false });
    } catch (error) {
      const code = error instanceof TokenError ? error.code : undefined;
      if (!code || !needsLogin(code) || !isUserFlow(provider.flow)) throw error;
      const decision = decideLogin();
      if (!decision.allowed) {
        log().info('login_refused', { providerId, because: decision.because });
        throw new Error(refusalMessage(provider, loginLabel(provider), decision));
      }
      log().info('login_started', { providerId, via: 'request', because: decision.because });
      let headers: Readonly<Record<string, string>>;
      try {
        headers = await running.engine.headers(providerId, { interactive: true });
      } catch (loginError) {
        surface?.loginFailed(providerId, loginError instanceof Error ? loginError.message : String(loginError));
        throw loginError;
      }
      // The login's notice is closed by chatHeaders, whichever request gets the token first.
      log().info('login_succeeded', { providerId, via: 'request' });
      void resync(running, providerId);
      return headers;
    }
  }

  const guardTool = createToolGuard(env);
  async function toolGuard(input: { tool: string }, output: { args: unknown }) {
    const running = session;
    if (!running) return;
    const hit = await guardTool(input.tool, output.args, running.guarded, directory);
    if (!hit) return;
    log().warn('tool_refused', { tool: input.tool, protects: hit.what });
    throw new Error(`opencode-oauth-machines: refused — the ${input.tool} tool may not access ${hit.what}. Credentials are not readable by the agent; use the oauth_status tool instead.`);
  }

  // The tools' argument schemas need zod (~35 ms to load): built when OpenCode first calls the plugin, not
  // when it imports this module.
  let tools: Promise<NonNullable<Hooks['tool']>> | undefined;
  const loadTools = () =>
    (tools ??= import('./tools.js').then(({ createTools }) => createTools({ session: currentSession, mayLogin, login: (id) => login(id, 'tool') })));

  function init(input: PluginInput) {
    if (!logger) logger = createPluginLogger(input.client, fromOpenCodeLogLevel(env.OPENCODE_LOG_LEVEL) ?? 'info');
    else logger.setClient(input.client);
    if (!surface) surface = createUserSurface({ client: input.client, surface: where, ...(deps.writeStderr ? { writeStderr: deps.writeStderr } : {}), now });
    else surface.setClient(input.client);
    if (typeof input.directory === 'string') directory = input.directory;
  }

  function shutdown() {
    session?.stop();
    session = undefined;
  }

  const plugin: Plugin = async (input, options) => {
    init(input);
    instances++;
    log().info('plugin_loaded', { instances, directory: input.directory });
    const hooks: Hooks = {
      config: (config) => configHook(config, options),
      'chat.headers': chatHeaders,
      'tool.execute.before': toolGuard,
      tool: await loadTools(),
      dispose: async () => {
        instances = Math.max(0, instances - 1);
        if (instances === 0) shutdown();
      },
    };
    Object.defineProperty(hooks, 'auth', { enumerable: true, get: () => authForSlot(0) });
    return hooks;
  };

  const loginSlots: Plugin[] = Array.from({ length: LOGIN_SLOTS - 1 }, (_, index) => {
    const slot = index + 1;
    return async () => {
      const hooks: Hooks = {};
      // OpenCode reads `auth` when it lists logins and builds providers, after the config hooks ran.
      Object.defineProperty(hooks, 'auth', { enumerable: true, get: () => authForSlot(slot) });
      return hooks;
    };
  });

  return { plugin, loginSlots, session: currentSession, shutdown };
}

import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { resolveMetadata } from '../adapters/http/discovery.js';
import type { DeviceAuthorization, MetadataNeed, ServerMetadata } from '../adapters/http/types.js';
import { openBrowser } from '../adapters/browser/index.js';
import { silentLogger, type Logger } from '../adapters/logger.js';
import { startLoopbackServer } from '../adapters/loopback/index.js';
import { createPkceMaterial } from '../adapters/pkce.js';
import { createSubjectTokenSource, readJwtExpiry, type SubjectTokenSource, type SubjectTokenSourceConfig } from '../adapters/subject-token/index.js';
import { TokenError, toErrorInfo } from '../errors.js';
import type { LoopbackInput } from '../machines/authorizationCode.js';
import type { DeviceAuthorizationInput, PollError } from '../machines/deviceCode.js';
import type { DiscoverInput, OpenUrlInput, PkceMaterial, ReadSubjectInput, SubjectTokenRead, TokenCallInput } from '../machines/flowTypes.js';
import type { TokenSet } from '../machines/token.js';
import type { SubjectSource } from '../config/providerModel.js';
import type { FlowDeps, FlowProvider } from './types.js';

/** The real effects behind the machines' named actors, bound to one provider's config. */

export const nowOf = (deps: FlowDeps) => deps.now ?? Date.now;
export const loggerOf = (deps: FlowDeps): Logger => deps.logger ?? silentLogger;

/** An OAuth provider without the per-acquisition parts: what discovery and token calls read. */
export type CallSettings = Exclude<FlowProvider, { flow: 'passthrough' }>;

/** Discovery for one provider (explicit endpoints first); the one way the flows and the refresh find endpoints. */
export function metadataFor(config: CallSettings, deps: FlowDeps, needs: MetadataNeed[], signal?: AbortSignal): Promise<ServerMetadata> {
  return resolveMetadata(config.issuer, config.endpoints, deps.http, {
    providerId: config.id,
    ...(signal ? { signal } : {}),
    needs,
    timeoutMs: config.httpTimeoutMs,
  });
}

export function discoverActor(config: CallSettings, deps: FlowDeps, needs: MetadataNeed[]) {
  return fromPromise<ServerMetadata, DiscoverInput>(({ signal }) => metadataFor(config, deps, needs, signal));
}

export function pkceActor(deps: FlowDeps) {
  return fromPromise<PkceMaterial, void>(async () => (deps.createPkce ?? createPkceMaterial)());
}

export function openUrlActor(config: FlowProvider, deps: FlowDeps) {
  const open = deps.openUrl ?? ((url: string, context: { providerId: string }) => openBrowser(url, { providerId: context.providerId, ...(deps.env ? { env: deps.env } : {}) }));
  return fromPromise<void, OpenUrlInput>(({ input }) => open(input.url, { providerId: config.id }));
}

/**
 * One token-endpoint call; the machine said what to ask for, this adds who asks and how long to wait.
 * The one way every grant is sent (the lifecycle's refresh too, `oneShot`: never re-sent blindly).
 */
export function callTokenEndpoint(config: CallSettings, deps: FlowDeps, input: TokenCallInput, signal: AbortSignal, options: { oneShot?: boolean } = {}): Promise<TokenSet> {
  return deps.http.requestToken({
    ...(options.oneShot ? { oneShot: true } : {}),
    providerId: config.id,
    tokenEndpoint: input.tokenEndpoint,
    issuer: input.issuer,
    grantType: input.grantType,
    params: input.params,
    clientAuth: config.clientAuth,
    signal,
    now: nowOf(deps),
    timeoutMs: config.httpTimeoutMs,
    assumedLifetimeSec: config.assumedLifetimeSec,
  });
}

export function tokenCallActor(config: CallSettings, deps: FlowDeps) {
  return fromPromise<TokenSet, TokenCallInput>(({ input, signal }) => callTokenEndpoint(config, deps, input, signal));
}

/**
 * One device-code poll. Its rejection is a plain error value the machine's guards read, carrying the
 * server's new interval when a `slow_down` came with one.
 */
export function pollActor(config: CallSettings, deps: FlowDeps) {
  return fromPromise<TokenSet, TokenCallInput>(async ({ input, signal }) => {
    try {
      return await callTokenEndpoint(config, deps, input, signal);
    } catch (error) {
      const info: PollError = toErrorInfo(config.id, error);
      if (error instanceof TokenError && error.oauthError === 'slow_down' && error.retryAfterMs !== undefined) {
        info.intervalSec = Math.ceil(error.retryAfterMs / 1000);
      }
      throw info;
    }
  });
}

export function deviceAuthorizationActor(config: CallSettings, deps: FlowDeps) {
  return fromPromise<DeviceAuthorization, DeviceAuthorizationInput>(({ input, signal }) =>
    deps.http.requestDeviceAuthorization({
      providerId: config.id,
      endpoint: input.endpoint,
      issuer: input.issuer,
      tokenEndpoint: input.tokenEndpoint,
      clientAuth: config.clientAuth,
      params: input.params,
      signal,
      timeoutMs: config.httpTimeoutMs,
    }),
  );
}

export function toSource(source: SubjectSource | undefined): SubjectTokenSource | undefined {
  if (!source) return undefined;
  return 'read' in source ? source : createSubjectTokenSource(source as SubjectTokenSourceConfig);
}

/** Reads the subject (or actor) token afresh and notes when it expires; never cached. */
export function readSubjectActor(config: FlowProvider, deps: FlowDeps) {
  // Typed as required for the flows that read one; an embedder's cast config is still checked at run time.
  const subject = toSource('subjectTokenSource' in config ? config.subjectTokenSource : undefined);
  const actor = toSource(config.flow === 'token_exchange' ? config.actorTokenSource : undefined);
  return fromPromise<SubjectTokenRead, ReadSubjectInput>(async ({ input, signal }) => {
    const source = input.role === 'actor' ? actor : subject;
    if (!source) {
      throw new TokenError({
        code: 'config',
        providerId: config.id,
        message: `${config.flow} needs ${input.role === 'actor' ? 'an actorTokenSource' : 'a subjectTokenSource'}, and none is configured`,
        fix: 'set subjectTokenSource (github_actions, kubernetes_sa, file, env, command or url) in the provider config',
      });
    }
    const token = await source.read({ providerId: config.id, signal, ...(deps.env ? { env: deps.env } : {}) });
    const expiresAt = readJwtExpiry(token);
    const readAt = nowOf(deps)();
    loggerOf(deps).debug('subject_read', {
      providerId: config.id,
      role: input.role,
      source: source.describe(),
      expInSec: expiresAt === undefined ? undefined : Math.round((expiresAt - readAt) / 1000),
    });
    return { token, readAt, source: source.describe(), ...(expiresAt !== undefined ? { expiresAt } : {}) };
  });
}

/**
 * The loopback server as a callback actor: it lives exactly as long as the machine's `login` state and
 * turns every request into an event (ready, stray, the authorization response).
 */
export function loopbackActor(config: FlowProvider, deps: FlowDeps) {
  const start = deps.startLoopback ?? startLoopbackServer;
  return fromCallback<EventObject, LoopbackInput>(({ input, sendBack }) => {
    let stopped = false;
    const abort = new AbortController();
    const serverStarted = start({ providerId: input.providerId, port: input.port, path: input.expected.path });
    serverStarted
      .then((server) => {
        if (stopped) return;
        sendBack({ type: 'LOOPBACK.READY', redirectUri: server.redirectUri });
        return server
          .waitForCallback({
            expectedState: input.expected.state,
            ...(input.expected.issuer !== undefined ? { issuer: input.expected.issuer } : {}),
            ...(input.expected.issuerRequired ? { issuerRequired: true } : {}),
            signal: abort.signal,
            onStray: (reason) => {
              if (!stopped) sendBack({ type: 'CALLBACK', result: { kind: 'stray', reason } });
            },
          })
          .then((result) => {
            if (!stopped) sendBack({ type: 'CALLBACK', result });
          });
      })
      .catch((error: unknown) => {
        if (!stopped) sendBack({ type: 'LOOPBACK.FAILED', error: toErrorInfo(config.id, error) });
      });
    return () => {
      stopped = true;
      abort.abort();
      void serverStarted.then((server) => server.close()).catch(() => undefined);
    };
  });
}

/** Local time of day for messages ("until 14:05:09"). */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString();
}

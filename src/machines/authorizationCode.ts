import { assign, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import type { ServerMetadata } from '../adapters/http/types.js';
import type { TokenErrorInfo } from '../errors.js';
import type { CallbackExpectation, CallbackResult, StrayReason } from './flowCallback.js';
import {
  actorError,
  flowError,
  flowOutput,
  hasRefreshToken,
  missingRefreshTokenError,
  type FlowResult,
} from './flowResult.js';
import { GRANT_TYPE, type DiscoverInput, type OpenUrlInput, type PkceMaterial, type TokenCallInput } from './flowTypes.js';
import type { TokenSet } from './token.js';
import { unprovidedActors } from './notProvided.js';
import { clampTimerMs } from './timerLimit.js';

/**
 * Browser login with PKCE on a loopback redirect (RFC 6749 §4.1, RFC 7636, RFC 8252 §7.3, RFC 9207).
 *
 *   start → resolvingEndpoints → generatingPkce → login{startingLoopback → openingBrowser → waitingForCallback}
 *         → exchangingCode → succeeded | failed
 *
 * The loopback server is an actor invoked by `login`: leaving `login` for any reason (code, IdP error,
 * deadline, stop) closes it.
 */

export interface AuthorizationCodeInput {
  providerId: string;
  clientId: string;
  scopes: readonly string[];
  /** False when no human may be asked now: the flow ends at once with `interaction_required`. */
  interactive: boolean;
  /** False: never try a browser, show the URL instead. */
  openBrowser: boolean;
  /** Deadline for the whole browser step, in seconds. */
  loginTimeoutSec: number;
  /** 0 or undefined: a random free port. */
  redirectPort?: number;
  /** Callback path on the loopback server, e.g. `/oauth2/callback`. */
  redirectPath: string;
  /** Sent only when configured (oidc-provider needs `consent` to honour offline_access). */
  prompt?: string;
  loginHint?: string;
  /** Extra authorization request parameters (acr_values, ui_locales, max_age, …); never override ours. */
  authorizationParams?: Readonly<Record<string, string>>;
  /** RFC 8707 resource indicators, every one on the authorization request and the code exchange. */
  resource?: readonly string[];
  audience?: string;
}

export interface LoopbackInput {
  providerId: string;
  port: number;
  expected: CallbackExpectation;
}

export type AuthorizationCodeEvent =
  | { type: 'LOOPBACK.READY'; redirectUri: string }
  | { type: 'LOOPBACK.FAILED'; error: TokenErrorInfo }
  | { type: 'CALLBACK'; result: CallbackResult };

export interface AuthorizationCodeContext extends AuthorizationCodeInput {
  metadata: ServerMetadata | null;
  pkce: PkceMaterial | null;
  redirectUri: string | null;
  authorizationUrl: string | null;
  code: string | null;
  /** Some request reached the loopback server (a stray one); none at all points at the redirect URI. */
  callbackSeen: boolean;
  token: TokenSet | null;
  error: TokenErrorInfo | null;
}

export interface AuthorizationUrlParams {
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  codeChallenge: string;
  prompt?: string;
  loginHint?: string;
  extra?: Readonly<Record<string, string>>;
  resource?: readonly string[];
  audience?: string;
}

/** Parameters the flow itself sets; `authorizationParams` may not replace them. */
export const RESERVED_AUTHORIZATION_PARAMS: readonly string[] = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'audience',
];

/**
 * The authorization request URL. Parameters already in the endpoint (some IdPs put a tenant or policy
 * there) are kept; the verifier is never part of it, only its S256 challenge.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export function buildAuthorizationUrl(endpoint: string, p: AuthorizationUrlParams): string {
  const url = new URL(endpoint);
  const q = url.searchParams;
  for (const [name, value] of Object.entries(p.extra ?? {})) {
    if (!RESERVED_AUTHORIZATION_PARAMS.includes(name)) q.set(name, value);
  }
  q.set('response_type', 'code');
  q.set('client_id', p.clientId);
  q.set('redirect_uri', p.redirectUri);
  if (p.scopes.length > 0) q.set('scope', p.scopes.join(' '));
  q.set('state', p.state);
  q.set('code_challenge', p.codeChallenge);
  q.set('code_challenge_method', 'S256');
  for (const resource of p.resource ?? []) q.append('resource', resource);
  if (p.audience) q.set('audience', p.audience);
  if (p.loginHint) q.set('login_hint', p.loginHint);
  if (p.prompt) q.set('prompt', p.prompt);
  return url.toString();
}

/** IdP error codes mapped to ours; the IdP's own code is kept in `oauthError` and the message. */
function idpErrorCode(error: string): TokenErrorInfo['code'] {
  switch (error) {
    case 'access_denied':
      return 'access_denied';
    case 'login_required':
    case 'consent_required':
    case 'interaction_required':
    case 'account_selection_required':
      return 'interaction_required';
    case 'invalid_scope':
      return 'invalid_scope';
    case 'unauthorized_client':
      return 'unauthorized_client';
    case 'server_error':
    case 'temporarily_unavailable':
      return 'transient';
    default:
      return 'invalid_request';
  }
}

const notProvided = unprovidedActors('authorizationCode');

export const authorizationCodeMachine = setup({
  types: {
    input: {} as AuthorizationCodeInput,
    context: {} as AuthorizationCodeContext,
    events: {} as AuthorizationCodeEvent,
    output: {} as FlowResult,
  },
  actors: {
    discoverEndpoints: fromPromise<ServerMetadata, DiscoverInput>(notProvided('discoverEndpoints')),
    generatePkce: fromPromise<PkceMaterial, void>(notProvided('generatePkce')),
    loopback: fromCallback<EventObject, LoopbackInput>(notProvided('loopback')),
    openBrowser: fromPromise<void, OpenUrlInput>(notProvided('openBrowser')),
    exchangeCode: fromPromise<TokenSet, TokenCallInput>(notProvided('exchangeCode')),
  },
  guards: {
    isInteractive: ({ context }) => context.interactive,
    hasAuthorizationEndpoint: (_, params: { metadata: ServerMetadata }) => !!params.metadata.authorizationEndpoint,
    shouldOpenBrowser: ({ context }) => context.openBrowser,
    isAuthorizationCode: ({ event }) => event.type === 'CALLBACK' && event.result.kind === 'code',
    isIdpError: ({ event }) => event.type === 'CALLBACK' && event.result.kind === 'idp_error',
    isIssuerMismatch: ({ event }) => event.type === 'CALLBACK' && event.result.kind === 'issuer_mismatch',
    // The exchange was sent and its answer lost: the code may be spent, and a re-sent one would revoke
    // whatever it was exchanged for (RFC 6749 §4.1.2).
    isLostExchange: (_, params: { error: unknown }) => (params.error as { code?: string } | undefined)?.code === 'uncertain',
    hasRefreshToken: (_, params: { token: TokenSet }) => hasRefreshToken(params.token),
  },
  actions: {
    storeMetadata: assign((_, params: { metadata: ServerMetadata }) => ({ metadata: params.metadata })),
    storePkce: assign((_, params: { pkce: PkceMaterial }) => ({ pkce: params.pkce })),
    storeRedirect: assign(({ context }, params: { redirectUri: string }) => ({
      redirectUri: params.redirectUri,
      authorizationUrl: buildAuthorizationUrl(context.metadata!.authorizationEndpoint!, {
        clientId: context.clientId,
        redirectUri: params.redirectUri,
        scopes: context.scopes,
        state: context.pkce!.state,
        codeChallenge: context.pkce!.challenge,
        prompt: context.prompt,
        loginHint: context.loginHint,
        extra: context.authorizationParams,
        resource: context.resource,
        audience: context.audience,
      }),
    })),
    storeCode: assign(({ event }) => (event.type === 'CALLBACK' && event.result.kind === 'code' ? { code: event.result.code } : {})),
    storeToken: assign((_, params: { token: TokenSet }) => ({ token: params.token })),
    recordError: assign(({ context }, params: { error: unknown }) => ({ error: actorError(context.providerId, params.error) })),
    failNotInteractive: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'interaction_required',
        'a browser login is needed but this call may not ask for one',
        'run `opencode auth login` (or call the engine with interactive: true)',
      ),
    })),
    failNoAuthorizationEndpoint: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'config',
        'authorization_code needs an authorization endpoint, and none was configured or discovered',
        'set the authorization endpoint in the provider config, or fix the issuer URL',
      ),
    })),
    noteCallbackSeen: assign({ callbackSeen: true }),
    failLoginTimeout: assign(({ context }) => ({
      error: context.callbackSeen || !context.redirectUri
        ? flowError(
            context.providerId,
            'timeout',
            `no login callback arrived within ${context.loginTimeoutSec} s`,
            'finish the login in the browser sooner, or raise loginTimeoutSec',
          )
        : flowError(
            context.providerId,
            'timeout',
            `no redirect reached ${context.redirectUri} within ${context.loginTimeoutSec} s; if the browser showed an IdP error page (invalid redirect_uri), the redirect URI registered at the IdP does not match`,
            `register exactly ${context.redirectUri} at the IdP (set redirectPort so the port stays the same, and redirectPath for the path), then log in again; if the login was merely slow, raise loginTimeoutSec`,
          ),
    })),
    failLostExchange: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'uncertain',
        'the authorization code was sent to the token endpoint but its answer was lost; it is not sent again (a reused code makes the IdP revoke what it issued), and nothing was stored',
        'try the login again',
      ),
    })),
    failIdpError: assign(({ context, event }) => {
      if (event.type !== 'CALLBACK' || event.result.kind !== 'idp_error') return {};
      const { error, errorDescription } = event.result;
      return {
        error: flowError(
          context.providerId,
          idpErrorCode(error),
          `the IdP ended the login with ${error}${errorDescription ? `: ${errorDescription}` : ''}`,
          error === 'access_denied' ? 'approve the login in the browser, or ask the IdP admin for access' : 'check the client registration at the IdP',
          { oauthError: error },
        ),
      };
    }),
    failIssuerMismatch: assign(({ context, event }) => {
      if (event.type !== 'CALLBACK' || event.result.kind !== 'issuer_mismatch') return {};
      const received = event.result.received;
      return {
        error: flowError(
          context.providerId,
          'protocol',
          received === undefined
            ? 'the authorization response carries no `iss` although the IdP advertises it (RFC 9207)'
            : `the authorization response came from issuer ${received}, not ${context.metadata?.issuer ?? 'the configured one'} (RFC 9207)`,
          'check the issuer URL in the provider config; a different issuer answering may be a mix-up attack',
        ),
      };
    }),
    failNoRefreshToken: assign(({ context }) => ({ error: missingRefreshTokenError(context.providerId) })),
    /** The URL goes to the user (never to a log): the browser could not be opened or must not be. */
    showAuthorizationUrl: (_, _params: { url: string }) => {},
    /** Tells the user what we wait for and until when (the runner knows the clock). */
    announceWaiting: (_, _params: { redirectUri: string; timeoutSec: number }) => {},
    reportStray: (_, _params: { reason: StrayReason }) => {},
  },
  delays: {
    // Clamped, not re-armed: the config caps loginTimeoutSec at 3600 s, far below the 24.8-day limit.
    loginTimeout: ({ context }) => clampTimerMs(context.loginTimeoutSec * 1000),
  },
}).createMachine({
  id: 'authorizationCode',
  context: ({ input }) => ({
    ...input,
    metadata: null,
    pkce: null,
    redirectUri: null,
    authorizationUrl: null,
    code: null,
    callbackSeen: false,
    token: null,
    error: null,
  }),
  initial: 'start',
  output: ({ context }) => flowOutput(context),
  states: {
    // A background caller must never pop a browser: decide before any effect.
    start: {
      always: [{ guard: 'isInteractive', target: 'resolvingEndpoints' }, { target: 'failed', actions: 'failNotInteractive' }],
    },
    resolvingEndpoints: {
      invoke: {
        id: 'discover',
        src: 'discoverEndpoints',
        input: ({ context }) => ({ providerId: context.providerId }),
        onDone: [
          {
            guard: { type: 'hasAuthorizationEndpoint', params: ({ event }) => ({ metadata: event.output }) },
            target: 'generatingPkce',
            actions: { type: 'storeMetadata', params: ({ event }) => ({ metadata: event.output }) },
          },
          { target: 'failed', actions: 'failNoAuthorizationEndpoint' },
        ],
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    generatingPkce: {
      invoke: {
        id: 'pkce',
        src: 'generatePkce',
        onDone: { target: 'login', actions: { type: 'storePkce', params: ({ event }) => ({ pkce: event.output }) } },
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    // Everything that needs the loopback server; the deadline covers the browser step as a whole.
    login: {
      invoke: {
        id: 'loopback',
        src: 'loopback',
        input: ({ context }) => ({
          providerId: context.providerId,
          port: context.redirectPort ?? 0,
          expected: {
            path: context.redirectPath,
            state: context.pkce!.state,
            issuer: context.metadata!.issuer,
            issuerRequired: context.metadata!.authorizationResponseIssParameterSupported === true,
          },
        }),
      },
      after: { loginTimeout: { target: 'failed', actions: 'failLoginTimeout' } },
      on: {
        // A callback may land while the browser opener is still running (fast IdP, scripted browser).
        CALLBACK: [
          { guard: 'isAuthorizationCode', target: 'exchangingCode', actions: 'storeCode' },
          { guard: 'isIdpError', target: 'failed', actions: 'failIdpError' },
          { guard: 'isIssuerMismatch', target: 'failed', actions: 'failIssuerMismatch' },
          // Stray requests (favicon, prefetch, wrong state) are answered by the server and ignored here.
          {
            actions: [
              'noteCallbackSeen',
              {
                type: 'reportStray',
                params: ({ event }) => ({ reason: event.result.kind === 'stray' ? event.result.reason : 'not_an_authorization_response' }),
              },
            ],
          },
        ],
      },
      initial: 'startingLoopback',
      states: {
        startingLoopback: {
          on: {
            // Announced at once: a fast IdP (or a scripted browser) may answer before the opener returns.
            'LOOPBACK.READY': [
              {
                guard: 'shouldOpenBrowser',
                target: 'openingBrowser',
                actions: [
                  { type: 'storeRedirect', params: ({ event }) => ({ redirectUri: event.redirectUri }) },
                  { type: 'announceWaiting', params: ({ context }) => ({ redirectUri: context.redirectUri!, timeoutSec: context.loginTimeoutSec }) },
                ],
              },
              {
                target: 'waitingForCallback',
                actions: [
                  { type: 'storeRedirect', params: ({ event }) => ({ redirectUri: event.redirectUri }) },
                  { type: 'showAuthorizationUrl', params: ({ context }) => ({ url: context.authorizationUrl! }) },
                  { type: 'announceWaiting', params: ({ context }) => ({ redirectUri: context.redirectUri!, timeoutSec: context.loginTimeoutSec }) },
                ],
              },
            ],
            'LOOPBACK.FAILED': { target: '#authorizationCode.failed', actions: assign({ error: ({ event }) => event.error }) },
          },
        },
        openingBrowser: {
          invoke: {
            id: 'browser',
            src: 'openBrowser',
            input: ({ context }) => ({ url: context.authorizationUrl! }),
            onDone: 'waitingForCallback',
            // No browser here (headless, no opener, opener failed): the user opens the URL by hand.
            onError: {
              target: 'waitingForCallback',
              actions: { type: 'showAuthorizationUrl', params: ({ context }) => ({ url: context.authorizationUrl! }) },
            },
          },
        },
        waitingForCallback: {},
      },
    },
    exchangingCode: {
      invoke: {
        id: 'exchange',
        src: 'exchangeCode',
        input: ({ context }) => ({
          providerId: context.providerId,
          tokenEndpoint: context.metadata!.tokenEndpoint,
          issuer: context.metadata!.issuer,
          grantType: GRANT_TYPE.authorizationCode,
          params: {
            code: context.code!,
            redirect_uri: context.redirectUri!,
            code_verifier: context.pkce!.verifier,
            resource: context.resource?.length ? context.resource : undefined,
          },
        }),
        onDone: [
          {
            guard: { type: 'hasRefreshToken', params: ({ event }) => ({ token: event.output }) },
            target: 'succeeded',
            actions: { type: 'storeToken', params: ({ event }) => ({ token: event.output }) },
          },
          { target: 'failed', actions: 'failNoRefreshToken' },
        ],
        onError: [
          { guard: { type: 'isLostExchange', params: ({ event }) => ({ error: event.error }) }, target: 'failed', actions: 'failLostExchange' },
          { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
        ],
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type AuthorizationCodeMachine = typeof authorizationCodeMachine;

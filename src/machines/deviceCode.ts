import { assign, fromPromise, setup } from 'xstate';
import type { DeviceAuthorization, ServerMetadata } from '../adapters/http/types.js';
import type { TokenErrorInfo } from '../errors.js';
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
import { clampTimerMs, MAX_TIMER_MS } from './timerLimit.js';

/**
 * Device authorization grant (RFC 8628), with PKCE on the device request as Keycloak requires.
 *
 *   start → resolvingEndpoints → generatingPkce → requestingAuthorization
 *         → awaitingApproval{presenting → openingVerificationPage → sleeping ⇄ polling} → succeeded | failed
 *
 * Polling always sleeps first; the whole wait is bounded by the device code's `expires_in`, counted by a
 * parallel `deadline` region whose timer is re-armed in steps of at most 2^31-1 ms (a 30-day code must not
 * overflow Node's timer and expire at once).
 */

export const DEFAULT_POLL_INTERVAL_SEC = 5;
/** RFC 8628 §3.5: `slow_down` adds 5 seconds to the interval for this and every later request. */
export const SLOW_DOWN_STEP_SEC = 5;
/** Network failures add this much per failure to the wait, capped so a long outage still polls every minute. */
export const TRANSIENT_BACKOFF_STEP_SEC = 5;
export const MAX_TRANSIENT_WAIT_SEC = 60;

export interface DeviceCodeInput {
  providerId: string;
  scopes: readonly string[];
  interactive: boolean;
  /** Send a code challenge on the device request and the verifier on every poll (default in runners: true). */
  usePkce: boolean;
  /** Try to open `verification_uri_complete` in a browser when the server sends one. */
  openBrowser: boolean;
  /** RFC 8707 resource indicators, every one sent on the device request. */
  resource?: readonly string[];
  audience?: string;
  /** Extra parameters for the device authorization request (acr_values, ui_locales…); never override ours. */
  authorizationParams?: Readonly<Record<string, string>>;
}

export interface DeviceAuthorizationInput {
  providerId: string;
  endpoint: string;
  /** Where a private_key_jwt assertion is addressed (see clientAuth.ts `assertionAudience`). */
  issuer: string;
  tokenEndpoint: string;
  params: Record<string, string | readonly string[] | undefined>;
}

export interface UserCodeNotice {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresInSec: number;
}

/** What the poll actor rejects with: our error value, plus the server's new interval when it sent one. */
export type PollError = TokenErrorInfo & { intervalSec?: number };

export interface DeviceCodeContext extends DeviceCodeInput {
  metadata: ServerMetadata | null;
  pkce: PkceMaterial | null;
  authorization: DeviceAuthorization | null;
  /** Seconds between polls; grows with `slow_down`. */
  intervalSec: number;
  /** Extra seconds added while the network keeps failing; back to 0 on any answer from the server. */
  backoffSec: number;
  /** Milliseconds of the device code's lifetime not yet counted by the deadline timer. */
  expiryLeftMs: number;
  /** A poll was sent and its answer lost: a later refusal of the code most likely means that poll got the token. */
  pollAnswerLost: boolean;
  token: TokenSet | null;
  error: TokenErrorInfo | null;
}

/** The interval the server asked for, or 5 s when it sent none or nonsense (RFC 8628 §3.2). */
export function pollIntervalSec(interval: number | undefined): number {
  return typeof interval === 'number' && Number.isFinite(interval) && interval > 0 ? Math.ceil(interval) : DEFAULT_POLL_INTERVAL_SEC;
}

const oauthErrorOf = (error: unknown): string | undefined => (error as { oauthError?: string } | undefined)?.oauthError;
const codeOf = (error: unknown): string | undefined => (error as { code?: string } | undefined)?.code;
const isOauthError = (error: unknown, name: string) => oauthErrorOf(error) === name || codeOf(error) === name;

const notProvided = unprovidedActors('deviceCode');

export const deviceCodeMachine = setup({
  types: {
    input: {} as DeviceCodeInput,
    context: {} as DeviceCodeContext,
    output: {} as FlowResult,
  },
  actors: {
    discoverEndpoints: fromPromise<ServerMetadata, DiscoverInput>(notProvided('discoverEndpoints')),
    generatePkce: fromPromise<PkceMaterial, void>(notProvided('generatePkce')),
    requestDeviceAuthorization: fromPromise<DeviceAuthorization, DeviceAuthorizationInput>(notProvided('requestDeviceAuthorization')),
    openBrowser: fromPromise<void, OpenUrlInput>(notProvided('openBrowser')),
    pollToken: fromPromise<TokenSet, TokenCallInput>(notProvided('pollToken')),
  },
  guards: {
    isInteractive: ({ context }) => context.interactive,
    hasDeviceEndpoint: (_, params: { metadata: ServerMetadata }) => !!params.metadata.deviceAuthorizationEndpoint,
    usesPkce: ({ context }) => context.usePkce,
    canOpenVerificationPage: ({ context }) => context.openBrowser && !!context.authorization?.verificationUriComplete,
    hasRefreshToken: (_, params: { token: TokenSet }) => hasRefreshToken(params.token),
    isAuthorizationPending: (_, params: { error: unknown }) => isOauthError(params.error, 'authorization_pending'),
    isSlowDown: (_, params: { error: unknown }) => isOauthError(params.error, 'slow_down'),
    isExpiredToken: (_, params: { error: unknown }) => isOauthError(params.error, 'expired_token'),
    isAccessDenied: (_, params: { error: unknown }) => isOauthError(params.error, 'access_denied'),
    // A poll lost in the network (or a 5xx after the adapter's own retries) says nothing about the approval.
    isTransientFailure: (_, params: { error: unknown }) => codeOf(params.error) === 'transient' || codeOf(params.error) === 'timeout',
    isDeviceCodeExpired: ({ context }) => context.expiryLeftMs <= MAX_TIMER_MS,
    // An `uncertain` poll (sent, answer lost) is never re-sent by the adapter; the next scheduled poll is
    // the machine's own, and tells: still pending, a token, or the code refused because that poll used it.
    isUncertainPoll: (_, params: { error: unknown }) => codeOf(params.error) === 'uncertain',
    isCodeRefusedAfterLostPoll: ({ context }, params: { error: unknown }) => context.pollAnswerLost && isOauthError(params.error, 'invalid_grant'),
  },
  actions: {
    storeMetadata: assign((_, params: { metadata: ServerMetadata }) => ({ metadata: params.metadata })),
    storePkce: assign((_, params: { pkce: PkceMaterial }) => ({ pkce: params.pkce })),
    storeAuthorization: assign((_, params: { authorization: DeviceAuthorization }) => ({
      authorization: params.authorization,
      intervalSec: pollIntervalSec(params.authorization.interval),
      expiryLeftMs: params.authorization.expiresIn * 1000,
    })),
    countExpiryStep: assign(({ context }) => ({ expiryLeftMs: context.expiryLeftMs - MAX_TIMER_MS })),
    storeToken: assign((_, params: { token: TokenSet }) => ({ token: params.token })),
    slowDown: assign(({ context }, params: { error: unknown }) => {
      const serverInterval = (params.error as PollError | undefined)?.intervalSec;
      return {
        intervalSec:
          typeof serverInterval === 'number' && Number.isFinite(serverInterval) && serverInterval > context.intervalSec
            ? Math.ceil(serverInterval)
            : context.intervalSec + SLOW_DOWN_STEP_SEC,
        backoffSec: 0,
      };
    }),
    backOff: assign(({ context }) => ({
      backoffSec: Math.min(context.backoffSec + TRANSIENT_BACKOFF_STEP_SEC, Math.max(0, MAX_TRANSIENT_WAIT_SEC - context.intervalSec)),
    })),
    resetBackoff: assign({ backoffSec: 0 }),
    notePollAnswerLost: assign({ pollAnswerLost: true }),
    failLostPoll: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'uncertain',
        'a device-code poll was sent but its answer was lost, and the IdP now refuses the code (that poll most likely got the token, which never arrived); nothing was stored',
        'try the login again',
        { oauthError: 'invalid_grant' },
      ),
    })),
    recordError: assign(({ context }, params: { error: unknown }) => ({ error: actorError(context.providerId, params.error) })),
    failNotInteractive: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'interaction_required',
        'a device-code login is needed but this call may not ask for one',
        'run `opencode auth login` (or call the engine with interactive: true)',
      ),
    })),
    failNoDeviceEndpoint: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'config',
        'device_code needs a device authorization endpoint, and none was configured or discovered',
        'set the device authorization endpoint in the provider config, or enable the device flow at the IdP',
      ),
    })),
    failExpired: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'expired_token',
        'the device code expired before the login was approved',
        'start the login again and enter the code before it expires',
        { oauthError: 'expired_token' },
      ),
    })),
    failDenied: assign(({ context }) => ({
      error: flowError(
        context.providerId,
        'access_denied',
        'the device login was denied',
        'start the login again and approve it, or ask the IdP admin for access',
        { oauthError: 'access_denied' },
      ),
    })),
    failNoRefreshToken: assign(({ context }) => ({ error: missingRefreshTokenError(context.providerId) })),
    /** Shows the user code and where to enter it (user-facing; the device code itself never leaves). */
    showUserCode: (_, _params: UserCodeNotice) => {},
    reportTransientPoll: (_, _params: { nextWaitSec: number }) => {},
  },
  delays: {
    pollInterval: ({ context }) => clampTimerMs((context.intervalSec + context.backoffSec) * 1000),
    deviceCodeExpiry: ({ context }) => clampTimerMs(context.expiryLeftMs),
  },
}).createMachine({
  id: 'deviceCode',
  context: ({ input }) => ({
    ...input,
    metadata: null,
    pkce: null,
    authorization: null,
    intervalSec: DEFAULT_POLL_INTERVAL_SEC,
    backoffSec: 0,
    expiryLeftMs: 0,
    pollAnswerLost: false,
    token: null,
    error: null,
  }),
  initial: 'start',
  output: ({ context }) => flowOutput(context),
  states: {
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
            guard: { type: 'hasDeviceEndpoint', params: ({ event }) => ({ metadata: event.output }) },
            target: 'preparing',
            actions: { type: 'storeMetadata', params: ({ event }) => ({ metadata: event.output }) },
          },
          { target: 'failed', actions: 'failNoDeviceEndpoint' },
        ],
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    // `pkce: false` is the escape hatch for servers that reject a challenge on the device request.
    preparing: {
      always: [{ guard: 'usesPkce', target: 'generatingPkce' }, { target: 'requestingAuthorization' }],
    },
    generatingPkce: {
      invoke: {
        id: 'pkce',
        src: 'generatePkce',
        onDone: { target: 'requestingAuthorization', actions: { type: 'storePkce', params: ({ event }) => ({ pkce: event.output }) } },
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    requestingAuthorization: {
      invoke: {
        id: 'deviceAuthorization',
        src: 'requestDeviceAuthorization',
        input: ({ context }) => ({
          providerId: context.providerId,
          endpoint: context.metadata!.deviceAuthorizationEndpoint!,
          issuer: context.metadata!.issuer,
          tokenEndpoint: context.metadata!.tokenEndpoint,
          params: {
            ...context.authorizationParams,
            scope: context.scopes.length > 0 ? context.scopes.join(' ') : undefined,
            code_challenge: context.pkce?.challenge,
            code_challenge_method: context.pkce ? 'S256' : undefined,
            resource: context.resource?.length ? context.resource : undefined,
            audience: context.audience,
          },
        }),
        onDone: {
          target: 'awaitingApproval',
          actions: [
            { type: 'storeAuthorization', params: ({ event }) => ({ authorization: event.output }) },
            {
              type: 'showUserCode',
              params: ({ event }) => ({
                userCode: event.output.userCode,
                verificationUri: event.output.verificationUri,
                ...(event.output.verificationUriComplete ? { verificationUriComplete: event.output.verificationUriComplete } : {}),
                expiresInSec: event.output.expiresIn,
              }),
            },
          ],
        },
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    // The device code's lifetime bounds everything below, however the polling goes.
    awaitingApproval: {
      type: 'parallel',
      states: {
        // Re-armed in steps of at most 2^31-1 ms until the whole lifetime has been counted.
        deadline: {
          initial: 'counting',
          states: {
            counting: {
              after: {
                deviceCodeExpiry: [
                  { guard: 'isDeviceCodeExpired', target: '#deviceCode.failed', actions: 'failExpired' },
                  { target: 'counting', reenter: true, actions: 'countExpiryStep' },
                ],
              },
            },
          },
        },
        approval: {
          initial: 'presenting',
          states: {
            presenting: {
              always: [{ guard: 'canOpenVerificationPage', target: 'openingVerificationPage' }, { target: 'sleeping' }],
            },
            // Best effort: the code is already on screen, so a missing browser changes nothing.
            openingVerificationPage: {
              invoke: {
                id: 'browser',
                src: 'openBrowser',
                input: ({ context }) => ({ url: context.authorization!.verificationUriComplete! }),
                onDone: 'sleeping',
                onError: 'sleeping',
              },
            },
            // RFC 8628 §3.5: wait `interval` before every poll, the first one included.
            sleeping: {
              after: { pollInterval: 'polling' },
            },
            polling: {
              invoke: {
                id: 'poll',
                src: 'pollToken',
                input: ({ context }) => ({
                  providerId: context.providerId,
                  tokenEndpoint: context.metadata!.tokenEndpoint,
                  issuer: context.metadata!.issuer,
                  grantType: GRANT_TYPE.deviceCode,
                  params: { device_code: context.authorization!.deviceCode, code_verifier: context.pkce?.verifier },
                }),
                onDone: [
                  {
                    guard: { type: 'hasRefreshToken', params: ({ event }) => ({ token: event.output }) },
                    target: '#deviceCode.succeeded',
                    actions: { type: 'storeToken', params: ({ event }) => ({ token: event.output }) },
                  },
                  { target: '#deviceCode.failed', actions: 'failNoRefreshToken' },
                ],
                onError: [
                  {
                    guard: { type: 'isAuthorizationPending', params: ({ event }) => ({ error: event.error }) },
                    target: 'sleeping',
                    actions: 'resetBackoff',
                  },
                  {
                    guard: { type: 'isSlowDown', params: ({ event }) => ({ error: event.error }) },
                    target: 'sleeping',
                    actions: { type: 'slowDown', params: ({ event }) => ({ error: event.error }) },
                  },
                  {
                    guard: { type: 'isUncertainPoll', params: ({ event }) => ({ error: event.error }) },
                    target: 'sleeping',
                    actions: [
                      'notePollAnswerLost',
                      'backOff',
                      { type: 'reportTransientPoll', params: ({ context }) => ({ nextWaitSec: context.intervalSec + context.backoffSec }) },
                    ],
                  },
                  {
                    guard: { type: 'isTransientFailure', params: ({ event }) => ({ error: event.error }) },
                    target: 'sleeping',
                    actions: [
                      'backOff',
                      { type: 'reportTransientPoll', params: ({ context }) => ({ nextWaitSec: context.intervalSec + context.backoffSec }) },
                    ],
                  },
                  {
                    guard: { type: 'isCodeRefusedAfterLostPoll', params: ({ event }) => ({ error: event.error }) },
                    target: '#deviceCode.failed',
                    actions: 'failLostPoll',
                  },
                  { guard: { type: 'isExpiredToken', params: ({ event }) => ({ error: event.error }) }, target: '#deviceCode.failed', actions: 'failExpired' },
                  { guard: { type: 'isAccessDenied', params: ({ event }) => ({ error: event.error }) }, target: '#deviceCode.failed', actions: 'failDenied' },
                  { target: '#deviceCode.failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
                ],
              },
            },
          },
        },
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type DeviceCodeMachine = typeof deviceCodeMachine;

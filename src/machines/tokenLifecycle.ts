import { assign, emit, fromPromise, setup } from 'xstate';
import { isPermanent, needsLogin, toErrorInfo, type TokenErrorInfo } from '../errors.js';
import {
  DEFAULT_RETRY_AFTER_FAILURE_MS,
  DEFAULT_RETRY_AFTER_PERMANENT_FAILURE_MS,
  refreshSchedule,
} from './refreshWindow.js';
import { isUserFlow, type TokenSet } from './token.js';
import type { FlowResult } from './flowResult.js';
import { unprovidedActors } from './notProvided.js';
import { clampTimerMs } from './timerLimit.js';
import { codeOf, isDeadGrantCode, lifecycleErrors, loginFix } from './lifecycleErrors.js';

/**
 * One actor per provider: the life of its token from the store to the wire and back.
 *
 *   loading → valid → expiring → renewing{locking → rereading → refreshing | reacquiring(flow child) → persisting} → valid
 *                                         ↘ recovering → retiring → needsReauth   ↘ coolingDown → resuming
 *
 * Everything with I/O (the store, the lock, the IdP, the clock) comes in through the named actors and the
 * clock given as input; the machine only decides. Renewal always runs inside the cross-process lock and
 * starts by re-reading the store, so a token another process already renewed is adopted, never re-spent.
 */

export * from './lifecycleTypes.js';
import type {
  AcquireInput,
  LifecycleContext,
  LifecycleEmitted,
  LifecycleEvent,
  LifecycleInput,
  LogoutInput,
  PersistInput,
  RefreshInput,
  Renewal,
  RenewInput,
  StoredToken,
} from './lifecycleTypes.js';

const notProvided = unprovidedActors('tokenLifecycle');

/**
 * The states whose held token may be handed out (until its hard deadline, `context.schedule.hardAt`): the
 * runtime reads this tag and the published token synchronously, without sending the actor anything.
 */
export const SERVABLE = 'servable';

/** A stored record whose token this process may use right now instead of renewing. */
const usableStored = (context: LifecycleContext, stored: StoredToken | undefined): stored is StoredToken & { token: TokenSet } => {
  if (!stored?.token) return false;
  if (stored.tombstone && stored.tombstone.generation === stored.generation) return false;
  if (isUserFlow(context.flow) && !stored.token.refreshToken) return false;
  return true;
};

const lifecycleSetup = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as LifecycleInput,
    emitted: {} as LifecycleEmitted,
  },
  actors: {
    readStore: fromPromise<StoredToken | undefined, RenewInput>(notProvided('readStore')),
    /**
     * Takes the cross-process lock (bounded wait); its output is an opaque lease the `releaseLock` action
     * gives back when the renewal ends, by whatever way. No caller can fake it: it is this child's done event.
     */
    acquireLock: fromPromise<string, RenewInput>(notProvided('acquireLock')),
    /** Gives the lock back before a renewed or adopted token is published (a process may exit right after). */
    returnLock: fromPromise<void, RenewInput & { lease: string }>(notProvided('returnLock')),
    refreshToken: fromPromise<TokenSet, RefreshInput>(notProvided('refreshToken')),
    /** The provider's flow machine (authorizationCode, deviceCode, assertionGrant, passthrough), invoked as a child. */
    acquireToken: fromPromise<FlowResult, AcquireInput>(notProvided('acquireToken')),
    writeStore: fromPromise<StoredToken, PersistInput>(notProvided('writeStore')),
    logout: fromPromise<void, LogoutInput>(notProvided('logout')),
  },
  guards: {
    /** Strict policy, read side: a user-flow token without a refresh token is refused, even from the store. */
    storedUserTokenLacksRefreshToken: ({ context }, stored: StoredToken | undefined) =>
      isUserFlow(context.flow) && !!stored?.token && !stored.token.refreshToken,
    storeHoldsRetiredToken: ({ context }, stored: StoredToken | undefined) =>
      isUserFlow(context.flow) && !!stored?.tombstone && stored.tombstone.generation === stored.generation,
    storeHoldsUsableToken: ({ context }, stored: StoredToken | undefined) =>
      usableStored(context, stored) && !(context.persistFailed && stored!.generation <= context.generation),
    /** Another process renewed while we waited for the lock: adopt its token instead of spending ours. */
    storeHoldsNewerServableToken: ({ context }, stored: StoredToken | undefined) =>
      usableStored(context, stored) &&
      stored.generation > context.generation &&
      context.clock.now() < refreshSchedule(stored.token, context.timing).hardAt,
    storeHoldsNewerUsableToken: ({ context }, stored: StoredToken | undefined) =>
      usableStored(context, stored) && stored.generation > context.generation,
    isMachineFlow: ({ context }) => !isUserFlow(context.flow),
    /** Machine flows acquire unattended; user flows only when a human may be asked. */
    mayAcquireNow: ({ context }, params: { interactive: boolean }) => !isUserFlow(context.flow) || params.interactive,
    holdsRefreshToken: ({ context }) => isUserFlow(context.flow) && !!context.token?.refreshToken && !context.interactive,
    mayPromptUser: ({ context }) => context.interactive,
    /** Compare-and-invalidate: a 401 for a token we already replaced must not trigger another renewal. */
    rejectsCurrentToken: ({ context }, params: { accessToken: string }) =>
      !!context.token && context.token.accessToken === params.accessToken,
    /** Strict policy, write side: a user flow's acquisition must yield a refresh token. */
    acquiredUserTokenLacksRefreshToken: ({ context }, result: FlowResult) =>
      result.status === 'succeeded' && isUserFlow(context.flow) && !result.token.refreshToken,
    flowFailed: (_, result: FlowResult) => result.status === 'failed',
    /**
     * The IdP refused the refresh token itself: revoked/spent (`invalid_grant`), or it wants the user back
     * (`interaction_required`, also Entra's and OIDC's login_required / consent_required): a login is needed.
     */
    isDeadGrant: (_, params: { error: unknown }) => isDeadGrantCode(codeOf(params.error)),
    /** The renewal under way was refused as a dead grant (the recovery re-read decides on it). */
    failedOnDeadGrant: ({ context }) => isDeadGrantCode(context.lastError?.code),
    isUncertain: (_, params: { error: unknown }) => codeOf(params.error) === 'uncertain',
    isLoginFailure: ({ context }, params: { error: TokenErrorInfo }) =>
      isUserFlow(context.flow) && needsLogin(params.error.code),
    holdsTokenOnlyALoginCanRenew: ({ context }) => !!context.token && isUserFlow(context.flow) && !context.token.refreshToken,
    softWindowOpen: ({ context }) => !!context.schedule && context.clock.now() >= context.schedule.softAt,
    /** The held token is before its hard deadline (and not distrusted): it may be handed out. */
    heldTokenServable: ({ context }) => !!context.token && !!context.schedule && context.clock.now() < context.schedule.hardAt,
    /** A lost refresh answer: until the token can no longer be served, do not risk the refresh token again. */
    waitingOutDoubt: ({ context }) =>
      context.doubtfulRefreshes > 0 && !!context.token && !!context.schedule && context.clock.now() < context.schedule.hardAt,
    /** The first lost answer: one more attempt is worth it (see docs/lifecycle.md, "A lost refresh answer"). */
    firstDoubt: ({ context }) => context.doubtfulRefreshes === 1,
    /** A token the next demand can renew unattended: any machine-flow token, a user token with its refresh token. */
    holdsRenewableToken: ({ context }) => !!context.token && (!isUserFlow(context.flow) || !!context.token.refreshToken),
  },
  actions: {
    /** Take over a stored record's token (our start, or another process's renewal). */
    holdStoredToken: assign(({ context }, stored: StoredToken) => {
      const token = isUserFlow(context.flow) ? stored.token! : withoutRefreshToken(stored.token!);
      return { token, schedule: refreshSchedule(token, context.timing), generation: stored.generation, lastError: null, doubtfulRefreshes: 0 };
    }),
    /** A refresh answer without a refresh token keeps the one we sent (RFC 6749 §6 allows either). */
    holdRefreshedToken: assign(({ context }, params: { token: TokenSet }) => {
      const refreshToken = params.token.refreshToken ?? context.token?.refreshToken;
      return { candidate: { ...params.token, ...(refreshToken ? { refreshToken } : {}) } };
    }),
    holdAcquiredToken: assign(({ context }, params: { token: TokenSet }) => ({
      candidate: isUserFlow(context.flow) ? params.token : withoutRefreshToken(params.token),
    })),
    publishCandidate: assign(({ context }) => ({
      token: context.candidate,
      schedule: context.candidate ? refreshSchedule(context.candidate, context.timing) : null,
      candidate: null,
      lastError: null,
      doubtfulRefreshes: 0,
    })),
    /** Track the store's generation (for the compare-and-swap write); a retired refresh token is dropped. */
    observeStore: assign(({ context }, stored: StoredToken | undefined) => {
      const retired = !!stored?.tombstone && stored.tombstone.generation === stored.generation;
      return {
        generation: stored?.generation ?? 0,
        token: retired && context.token ? withoutRefreshToken(context.token) : context.token,
      };
    }),
    recordGeneration: assign((_, params: { generation: number }) => ({ generation: params.generation, persistFailed: false })),
    recordError: assign((_, params: { error: TokenErrorInfo }) => ({ lastError: params.error })),
    countDoubt: assign(({ context }) => ({ doubtfulRefreshes: context.doubtfulRefreshes + 1 })),
    holdLease: assign((_, params: { lease: string }) => ({ lease: params.lease })),
    /** Provided by the runtime (gives the lock file back); the machine only says when. */
    releaseLock: (_, _params: { lease: string }) => {},
    forgetLease: assign({ lease: null }),
    clearRenewal: assign({ renewal: null }),
    /** Upstream said 401: the token stays stored but is no longer served. */
    distrustToken: assign(({ context }) => ({
      schedule: context.schedule ? { ...context.schedule, softAt: -Infinity, hardAt: -Infinity } : null,
    })),
    allowInteraction: assign((_, params: { interactive: boolean }) => ({ interactive: params.interactive })),
    markPersistFailed: assign({ persistFailed: true }),
    /** The refresh token is dead: whatever the IdP said, the way out is a new login. */
    adviseLogin: assign(({ context }) => ({
      lastError: context.lastError ? { ...context.lastError, fix: loginFix(context) } : lifecycleErrors.refreshTokenDead(context),
    })),
    forgetToken: assign({ token: null, schedule: null, candidate: null, interactive: false, generation: 0 }),
    /** Remembered until the lock is back: `token.renewed` is told when the token is served, not before. */
    markRenewed: assign((_, params: { how: Renewal }) => ({ renewal: params.how })),
    emitRenewed: emit(({ context }, params: { how: Renewal }) => ({
      type: 'token.renewed' as const,
      how: params.how,
      generation: context.generation,
      expiresAt: context.token?.expiresAt ?? 0,
    })),
    emitFailure: emit(({ context }) => ({
      type: 'token.failed' as const,
      error: context.lastError ?? toErrorInfo(context.providerId, undefined),
    })),
    emitPersistFailed: emit(({ context }, params: { error: TokenErrorInfo }) => ({
      type: 'store.persist_failed' as const,
      error: { ...params.error, providerId: context.providerId },
    })),
    emitLoggedOut: emit({ type: 'logged_out' as const }),
  },
  delays: {
    /** Longer when only a config change can help; short when the IdP may just be down for a moment. */
    retryAfterFailure: ({ context }) =>
      context.lastError && isPermanent(context.lastError.code)
        ? clampTimerMs(context.timing.retryAfterPermanentFailureMs ?? DEFAULT_RETRY_AFTER_PERMANENT_FAILURE_MS)
        : clampTimerMs(context.timing.retryAfterFailureMs ?? DEFAULT_RETRY_AFTER_FAILURE_MS),
    /** Until the soft window opens (at most one timer's reach: a 30-day token re-arms it). */
    untilSoftWindow: ({ context }) => clampTimerMs((context.schedule?.softAt ?? 0) - context.clock.now()),
  },
});

/**
 * Handled alike wherever the lifecycle rests (acquiring, valid, expiring, coolingDown, needsReauth, evicted):
 * a login request starts an interactive renewal; a store change (another process wrote) re-reads it.
 */
const loginOrReread = {
  'LOGIN.REQUESTED': { target: 'renewing', actions: { type: 'allowInteraction', params: { interactive: true } } },
  'STORE.CHANGED': { target: 'loading' },
} as const;

export const tokenLifecycle = lifecycleSetup.createMachine({
  id: 'tokenLifecycle',
  context: ({ input }) => ({
    providerId: input.providerId,
    flow: input.flow,
    clock: input.clock,
    timing: input.timing,
    acquisition: input.acquisition ?? { providerId: input.providerId },
    token: null,
    schedule: null,
    candidate: null,
    generation: 0,
    interactive: false,
    lastError: null,
    persistFailed: false,
    lease: null,
    renewal: null,
    doubtfulRefreshes: 0,
  }),
  initial: 'loading',
  on: {
    LOGOUT: { target: '.loggingOut' },
  },
  states: {
    // Start from what is stored: another process (or an earlier run) may already hold a good token.
    loading: {
      invoke: {
        id: 'load',
        src: 'readStore',
        input: ({ context }) => ({ providerId: context.providerId, flow: context.flow }),
        onDone: [
          {
            guard: { type: 'storedUserTokenLacksRefreshToken', params: ({ event }) => event.output },
            target: 'needsReauth',
            actions: {
              type: 'recordError',
              params: ({ context }) => ({
                error: lifecycleErrors.storedWithoutRefreshToken(context),
              }),
            },
          },
          {
            guard: { type: 'storeHoldsRetiredToken', params: ({ event }) => event.output },
            target: 'needsReauth',
            actions: [
              { type: 'holdStoredToken', params: ({ event }) => event.output! },
              'distrustToken',
              {
                type: 'recordError',
                params: ({ context }) => ({ error: lifecycleErrors.storedRefreshTokenRetired(context) }),
              },
            ],
          },
          {
            guard: { type: 'storeHoldsUsableToken', params: ({ event }) => event.output },
            target: 'valid',
            actions: { type: 'holdStoredToken', params: ({ event }) => event.output! },
          },
          { target: 'acquiring' },
        ],
        onError: {
          target: 'acquiring',
          actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error, 'storage') }) },
        },
      },
    },

    // No token at all: the empty start. Acquire on the first demand (a human is asked only when allowed).
    acquiring: {
      on: {
        'TOKEN.NEEDED': [
          {
            guard: { type: 'mayAcquireNow', params: ({ event }) => ({ interactive: !!event.interactive }) },
            target: 'renewing',
            actions: { type: 'allowInteraction', params: ({ event }) => ({ interactive: !!event.interactive }) },
          },
          {
            target: 'needsReauth',
            actions: {
              type: 'recordError',
              params: ({ context }) => ({ error: lifecycleErrors.noTokenYet(context) }),
            },
          },
        ],
        ...loginOrReread,
      },
    },

    // Fresh: served as is until the soft window opens.
    valid: {
      tags: [SERVABLE],
      // A timer clamped to its limit fires early: still fresh, wait again.
      after: { untilSoftWindow: [{ guard: 'softWindowOpen', target: 'expiring' }, { target: 'valid', reenter: true }] },
      on: {
        // Timers run late (a laptop lid, a busy loop): a demand past the soft window renews at once.
        'TOKEN.NEEDED': {
          guard: 'softWindowOpen',
          target: 'renewing',
          actions: { type: 'allowInteraction', params: { interactive: false } },
        },
        'TOKEN.REJECTED': {
          guard: { type: 'rejectsCurrentToken', params: ({ event }) => ({ accessToken: event.accessToken }) },
          target: 'renewing',
          actions: ['distrustToken', { type: 'allowInteraction', params: { interactive: false } }],
        },
        ...loginOrReread,
      },
    },

    // Still served, but the next demand renews it (in the background until the hard deadline).
    expiring: {
      tags: [SERVABLE],
      on: {
        'TOKEN.NEEDED': [
          // After a lost refresh answer the held token is served to its hard deadline before trying again.
          { guard: 'waitingOutDoubt' },
          { target: 'renewing', actions: { type: 'allowInteraction', params: { interactive: false } } },
        ],
        'TOKEN.REJECTED': {
          guard: { type: 'rejectsCurrentToken', params: ({ event }) => ({ accessToken: event.accessToken }) },
          target: 'renewing',
          actions: ['distrustToken', { type: 'allowInteraction', params: { interactive: false } }],
        },
        ...loginOrReread,
      },
    },

    // The single flight: one renewal per provider in this process, under the cross-process lock.
    renewing: {
      entry: 'clearRenewal',
      // Leaving the renewal by a failure gives the lock back here; a success goes through `releasing`.
      exit: [{ type: 'releaseLock', params: ({ context }) => ({ lease: context.lease ?? '' }) }, 'forgetLease'],
      on: {
        'LOGIN.CANCELLED': {
          guard: 'mayPromptUser',
          target: 'settling',
          actions: {
            type: 'recordError',
            params: ({ context }) => ({ error: lifecycleErrors.loginCancelled(context) }),
          },
        },
      },
      initial: 'locking',
      states: {
        locking: {
          tags: [SERVABLE],
          invoke: {
            id: 'lock',
            src: 'acquireLock',
            input: ({ context }) => ({ providerId: context.providerId, flow: context.flow }),
            onDone: { target: 'rereading', actions: { type: 'holdLease', params: ({ event }) => ({ lease: event.output }) } },
            onError: {
              target: '#tokenLifecycle.settling',
              actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error, 'lock_timeout') }) },
            },
          },
        },
        // Decide inside the lock, on what is stored now, not on what we read before waiting.
        rereading: {
          tags: [SERVABLE],
          invoke: {
            id: 'reread',
            src: 'readStore',
            input: ({ context }) => ({ providerId: context.providerId, flow: context.flow }),
            onDone: [
              {
                guard: { type: 'storeHoldsNewerServableToken', params: ({ event }) => event.output },
                target: 'releasing',
                actions: [
                  { type: 'holdStoredToken', params: ({ event }) => event.output! },
                  { type: 'markRenewed', params: { how: 'adopted' } },
                ],
              },
              {
                // Expired, but its refresh token is newer than ours: ours was rotated away, spend theirs.
                guard: { type: 'storeHoldsNewerUsableToken', params: ({ event }) => event.output },
                target: 'deciding',
                actions: { type: 'holdStoredToken', params: ({ event }) => event.output! },
              },
              { target: 'deciding', actions: { type: 'observeStore', params: ({ event }) => event.output } },
            ],
            onError: {
              target: '#tokenLifecycle.settling',
              actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error, 'storage') }) },
            },
          },
        },
        // The policy, in order: machine flows re-acquire; user flows refresh while they hold a refresh token;
        // otherwise only a human can help.
        deciding: {
          always: [
            { guard: 'isMachineFlow', target: 'reacquiring' },
            { guard: 'holdsRefreshToken', target: 'refreshing' },
            { guard: 'mayPromptUser', target: 'reacquiring' },
            {
              target: '#tokenLifecycle.needsReauth',
              actions: {
                type: 'recordError',
                params: ({ context }) => ({ error: lifecycleErrors.cannotRenewWithoutLogin(context) }),
              },
            },
          ],
        },
        // A refresh token is sent once per attempt: no blind retry here; a lost answer goes to `recovering`.
        refreshing: {
          tags: [SERVABLE],
          invoke: {
            id: 'refresh',
            src: 'refreshToken',
            input: ({ context }) => ({ providerId: context.providerId, flow: context.flow, refreshToken: context.token!.refreshToken! }),
            onDone: {
              target: 'persisting',
              actions: [{ type: 'holdRefreshedToken', params: ({ event }) => ({ token: event.output }) }],
            },
            onError: [
              {
                guard: { type: 'isDeadGrant', params: ({ event }) => ({ error: event.error }) },
                target: 'recovering',
                actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error) }) },
              },
              {
                guard: { type: 'isUncertain', params: ({ event }) => ({ error: event.error }) },
                target: 'recovering',
                actions: [{ type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error) }) }, 'countDoubt'],
              },
              {
                target: '#tokenLifecycle.settling',
                actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error) }) },
              },
            ],
          },
        },
        // The one recovery, after a refused or a lost refresh answer: someone may have rotated the token
        // outside our lock (another process, another tool), so look in the store first. Then a dead grant is
        // retired; a lost answer never is (only an `invalid_grant` means the refresh token is dead): the
        // access token is served to its hard deadline, then the refresh is tried once more.
        recovering: {
          tags: [SERVABLE],
          invoke: {
            id: 'recover',
            src: 'readStore',
            input: ({ context }) => ({ providerId: context.providerId, flow: context.flow }),
            onDone: [
              {
                guard: { type: 'storeHoldsNewerServableToken', params: ({ event }) => event.output },
                target: 'releasing',
                actions: [
                  { type: 'holdStoredToken', params: ({ event }) => event.output! },
                  { type: 'markRenewed', params: { how: 'adopted' } },
                ],
              },
              {
                guard: { type: 'storeHoldsNewerUsableToken', params: ({ event }) => event.output },
                target: 'deciding',
                actions: { type: 'holdStoredToken', params: ({ event }) => event.output! },
              },
              { guard: 'failedOnDeadGrant', target: 'retiring' },
              { guard: 'heldTokenServable', target: '#tokenLifecycle.expiring' },
              { guard: 'firstDoubt', target: 'refreshing' },
              { target: '#tokenLifecycle.settling' },
            ],
            onError: [{ guard: 'failedOnDeadGrant', target: 'retiring' }, { target: '#tokenLifecycle.settling' }],
          },
        },
        // Tombstone the dead refresh token so other processes ask for a login instead of re-spending it.
        // The access token stays stored untouched: nothing ever blanks stored credentials.
        retiring: {
          tags: [SERVABLE],
          invoke: {
            id: 'retire',
            src: 'writeStore',
            input: ({ context }) => ({
              providerId: context.providerId,
              flow: context.flow,
              token: context.token!,
              expectedGeneration: context.generation,
              tombstone: { reason: context.lastError?.code ?? 'invalid_grant' },
            }),
            onDone: {
              target: '#tokenLifecycle.needsReauth',
              actions: [{ type: 'recordGeneration', params: ({ event }) => ({ generation: event.output.generation }) }, 'distrustToken', 'adviseLogin'],
            },
            onError: { target: '#tokenLifecycle.needsReauth', actions: ['distrustToken', 'adviseLogin'] },
          },
        },
        // The flow machine runs as this actor's child; its typed result decides, nothing is thrown.
        reacquiring: {
          tags: [SERVABLE],
          invoke: {
            id: 'acquire',
            src: 'acquireToken',
            input: ({ context }) => ({ ...context.acquisition, providerId: context.providerId, interactive: context.interactive }),
            onDone: [
              {
                guard: { type: 'flowFailed', params: ({ event }) => event.output },
                target: 'failedAcquisition',
                actions: { type: 'recordError', params: ({ event }) => ({ error: (event.output as Extract<FlowResult, { status: 'failed' }>).error }) },
              },
              {
                guard: { type: 'acquiredUserTokenLacksRefreshToken', params: ({ event }) => event.output },
                target: '#tokenLifecycle.settling',
                actions: {
                  type: 'recordError',
                  params: ({ context }) => ({ error: lifecycleErrors.noRefreshTokenIssued(context) }),
                },
              },
              {
                target: 'persisting',
                actions: { type: 'holdAcquiredToken', params: ({ event }) => ({ token: (event.output as Extract<FlowResult, { status: 'succeeded' }>).token }) },
              },
            ],
            // Only a bug gets here (a flow machine reports every OAuth outcome as its output).
            onError: {
              target: '#tokenLifecycle.settling',
              actions: { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error) }) },
            },
          },
        },
        failedAcquisition: {
          always: [
            { guard: { type: 'isLoginFailure', params: ({ context }) => ({ error: context.lastError! }) }, target: '#tokenLifecycle.needsReauth' },
            { target: '#tokenLifecycle.settling' },
          ],
        },
        // Persist before publishing: a rotated refresh token is on disk before any caller sees the new token.
        persisting: {
          tags: [SERVABLE],
          invoke: {
            id: 'persist',
            src: 'writeStore',
            input: ({ context }) => ({
              providerId: context.providerId,
              flow: context.flow,
              token: context.candidate!,
              expectedGeneration: context.generation,
            }),
            onDone: {
              target: 'releasing',
              actions: [
                'publishCandidate',
                { type: 'recordGeneration', params: ({ event }) => ({ generation: event.output.generation }) },
                { type: 'markRenewed', params: ({ context }) => ({ how: context.interactive || !isUserFlow(context.flow) ? 'acquired' : 'refreshed' }) },
              ],
            },
            // The store refused the write: served from memory at once (the lock is dropped on the way out).
            onError: {
              target: '#tokenLifecycle.valid',
              actions: [
                'publishCandidate',
                'markPersistFailed',
                { type: 'emitPersistFailed', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error, 'storage') }) },
              ],
            },
          },
        },
        // The new (or adopted) token is held but not served until the lock is back: a process that exits
        // right after its caller got the token leaves no lock behind for the others to break.
        releasing: {
          invoke: {
            id: 'release',
            src: 'returnLock',
            input: ({ context }) => ({ providerId: context.providerId, flow: context.flow, lease: context.lease ?? '' }),
            onDone: { target: '#tokenLifecycle.valid', actions: ['forgetLease', { type: 'emitRenewed', params: ({ context }) => ({ how: context.renewal! }) }, 'clearRenewal'] },
            onError: { target: '#tokenLifecycle.valid', actions: ['forgetLease', { type: 'emitRenewed', params: ({ context }) => ({ how: context.renewal! }) }, 'clearRenewal'] },
          },
        },
      },
    },

    // A renewal failed without killing the credentials: keep what we hold, tell the waiting callers.
    settling: {
      always: [{ guard: 'holdsTokenOnlyALoginCanRenew', target: 'needsReauth' }, { target: 'coolingDown' }],
    },

    // Fail fast for a while instead of sending every demand to a failing IdP: a token still before its
    // hard deadline is served meanwhile; waiting callers get the error at once.
    coolingDown: {
      tags: [SERVABLE],
      entry: 'emitFailure',
      after: { retryAfterFailure: { target: 'resuming' } },
      on: {
        'TOKEN.NEEDED': { actions: 'emitFailure' },
        'TOKEN.REJECTED': { guard: { type: 'rejectsCurrentToken', params: ({ event }) => ({ accessToken: event.accessToken }) }, actions: 'distrustToken' },
        ...loginOrReread,
      },
    },
    resuming: {
      always: [{ guard: 'holdsRenewableToken', target: 'expiring' }, { target: 'acquiring' }],
    },

    // A user flow whose refresh token is gone: credentials are kept, a login is needed.
    needsReauth: {
      entry: 'emitFailure',
      on: {
        'TOKEN.NEEDED': [
          {
            guard: { type: 'mayAcquireNow', params: ({ event }) => ({ interactive: !!event.interactive }) },
            target: 'renewing',
            actions: { type: 'allowInteraction', params: { interactive: true } },
          },
          { actions: 'emitFailure' },
        ],
        ...loginOrReread,
      },
    },

    // Revoke at the IdP where possible, then delete: the one path that removes stored credentials.
    loggingOut: {
      invoke: {
        id: 'logout',
        src: 'logout',
        input: ({ context }) => ({ providerId: context.providerId, flow: context.flow, token: context.token }),
        onDone: { target: 'evicted', actions: ['forgetToken', 'emitLoggedOut'] },
        onError: {
          target: 'evicted',
          actions: [
            'forgetToken',
            { type: 'recordError', params: ({ context, event }) => ({ error: toErrorInfo(context.providerId, event.error, 'storage') }) },
            'emitLoggedOut',
          ],
        },
      },
    },

    // Credentials removed. A new demand starts over (unattended flows) or asks for a login (user flows).
    evicted: {
      on: {
        'TOKEN.NEEDED': [
          {
            guard: { type: 'mayAcquireNow', params: ({ event }) => ({ interactive: !!event.interactive }) },
            target: 'renewing',
            actions: { type: 'allowInteraction', params: ({ event }) => ({ interactive: !!event.interactive }) },
          },
          {
            target: 'needsReauth',
            actions: {
              type: 'recordError',
              params: ({ context }) => ({ error: lifecycleErrors.loggedOut(context) }),
            },
          },
        ],
        ...loginOrReread,
      },
    },
  },
});

function withoutRefreshToken(token: TokenSet): TokenSet {
  // Machine flows never refresh; a refresh token they were handed is only a secret to leak.
  const { refreshToken: _dropped, ...rest } = token;
  return rest;
}

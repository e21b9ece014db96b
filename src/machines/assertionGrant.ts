import { assign, fromPromise, setup } from 'xstate';
import type { ServerMetadata } from '../adapters/http/types.js';
import type { TokenErrorInfo } from '../errors.js';
import { actorError, flowError, flowOutput, type FlowResult } from './flowResult.js';
import { capToSubject, DEFAULT_MIN_SUBJECT_LIFETIME_SEC, isSubjectExpired, isSubjectNearlyExpired } from './flowSubject.js';
import {
  GRANT_TYPE,
  TOKEN_TYPE_JWT,
  type DiscoverInput,
  type ReadSubjectInput,
  type SubjectTokenRead,
  type TokenCallInput,
} from './flowTypes.js';
import type { TokenSet } from './token.js';
import { unprovidedActors } from './notProvided.js';

/**
 * Unattended acquisition: client_credentials (RFC 6749 §4.4), jwt_bearer (RFC 7523 §2.1) and
 * token_exchange (RFC 8693 §2.1), one machine with the grant as input.
 *
 *   resolvingEndpoints → readingSubjectToken ↺(once, when nearly expired) → readingActorToken → requestingToken
 *                      → succeeded | failed
 *
 * The subject token is read fresh for every acquisition and the minted token never outlives it.
 * Machine flows never hold a refresh token: the next acquisition starts again from the platform identity.
 */

export type AssertionGrantKind = 'client_credentials' | 'jwt_bearer' | 'token_exchange';

export interface AssertionGrantInput {
  providerId: string;
  grant: AssertionGrantKind;
  scopes: readonly string[];
  /** token_exchange: the RFC 8693 `audience` (the target service). */
  audience?: string;
  /** RFC 8707 / RFC 8693 `resource`, every value sent. */
  resource?: readonly string[];
  /** token_exchange: Keycloak's legacy (v1) `subject_issuer`, the alias of the external IdP that issued the subject token. */
  subjectIssuer?: string;
  /** token_exchange: default urn:ietf:params:oauth:token-type:jwt. */
  subjectTokenType?: string;
  requestedTokenType?: string;
  /** token_exchange: read an actor token too (delegation). */
  useActorToken?: boolean;
  actorTokenType?: string;
  /** Re-fetch a subject token with less than this many seconds left (default 60). */
  minSubjectLifetimeSec?: number;
}

export interface AssertionGrantContext extends AssertionGrantInput {
  metadata: ServerMetadata | null;
  subject: SubjectTokenRead | null;
  actor: SubjectTokenRead | null;
  /** The subject token was already re-fetched once in this acquisition. */
  subjectRefetched: boolean;
  token: TokenSet | null;
  error: TokenErrorInfo | null;
}

/**
 * The grant request parameters (client authentication is added by the HTTP adapter).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export function assertionGrantRequest(
  context: Pick<
    AssertionGrantContext,
    'grant' | 'scopes' | 'audience' | 'resource' | 'subjectTokenType' | 'requestedTokenType' | 'actorTokenType' | 'subject' | 'actor' | 'subjectIssuer'
  >,
): { grantType: string; params: Record<string, string | readonly string[] | undefined> } {
  const scope = context.scopes.length > 0 ? context.scopes.join(' ') : undefined;
  const resource = context.resource?.length ? context.resource : undefined;
  switch (context.grant) {
    case 'client_credentials':
      return { grantType: GRANT_TYPE.clientCredentials, params: { scope, resource, audience: context.audience } };
    case 'jwt_bearer':
      return { grantType: GRANT_TYPE.jwtBearer, params: { assertion: context.subject?.token, scope, resource } };
    case 'token_exchange':
      return {
        grantType: GRANT_TYPE.tokenExchange,
        params: {
          subject_token: context.subject?.token,
          subject_token_type: context.subjectTokenType ?? TOKEN_TYPE_JWT,
          requested_token_type: context.requestedTokenType,
          subject_issuer: context.subjectIssuer,
          audience: context.audience,
          resource,
          scope,
          actor_token: context.actor?.token,
          actor_token_type: context.actor ? (context.actorTokenType ?? TOKEN_TYPE_JWT) : undefined,
        },
      };
  }
}

const notProvided = unprovidedActors('assertionGrant');

export const assertionGrantMachine = setup({
  types: {
    input: {} as AssertionGrantInput,
    context: {} as AssertionGrantContext,
    output: {} as FlowResult,
  },
  actors: {
    discoverEndpoints: fromPromise<ServerMetadata, DiscoverInput>(notProvided('discoverEndpoints')),
    readSubjectToken: fromPromise<SubjectTokenRead, ReadSubjectInput>(notProvided('readSubjectToken')),
    readActorToken: fromPromise<SubjectTokenRead, ReadSubjectInput>(notProvided('readActorToken')),
    requestToken: fromPromise<TokenSet, TokenCallInput>(notProvided('requestToken')),
  },
  guards: {
    needsSubjectToken: ({ context }) => context.grant !== 'client_credentials',
    needsActorToken: ({ context }) => context.grant === 'token_exchange' && context.useActorToken === true,
    shouldRefetchSubject: ({ context }, params: { read: SubjectTokenRead }) =>
      !context.subjectRefetched && isSubjectNearlyExpired(params.read, context.minSubjectLifetimeSec ?? DEFAULT_MIN_SUBJECT_LIFETIME_SEC),
    isSubjectExpired: (_, params: { read: SubjectTokenRead }) => isSubjectExpired(params.read),
  },
  actions: {
    storeMetadata: assign((_, params: { metadata: ServerMetadata }) => ({ metadata: params.metadata })),
    markSubjectRefetched: assign({ subjectRefetched: true }),
    storeSubject: assign((_, params: { read: SubjectTokenRead }) => ({ subject: params.read })),
    storeActor: assign((_, params: { read: SubjectTokenRead }) => ({ actor: params.read })),
    storeToken: assign(({ context }, params: { token: TokenSet }) => ({ token: capToSubject(params.token, context.subject?.expiresAt) })),
    recordError: assign(({ context }, params: { error: unknown }) => ({ error: actorError(context.providerId, params.error) })),
    failSubjectExpired: assign(({ context }, params: { read: SubjectTokenRead }) => ({
      error: flowError(
        context.providerId,
        'subject_token',
        `the subject token from ${params.read.source} is already expired, even after a fresh read`,
        'check that the token source rotates its token (CI job still running, projected volume refreshed) and that the clock is right',
      ),
    })),
  },
}).createMachine({
  id: 'assertionGrant',
  context: ({ input }) => ({
    ...input,
    metadata: null,
    subject: null,
    actor: null,
    subjectRefetched: false,
    token: null,
    error: null,
  }),
  initial: 'resolvingEndpoints',
  output: ({ context }) => flowOutput(context),
  states: {
    resolvingEndpoints: {
      invoke: {
        id: 'discover',
        src: 'discoverEndpoints',
        input: ({ context }) => ({ providerId: context.providerId }),
        onDone: [
          {
            guard: 'needsSubjectToken',
            target: 'readingSubjectToken',
            actions: { type: 'storeMetadata', params: ({ event }) => ({ metadata: event.output }) },
          },
          { target: 'requestingToken', actions: { type: 'storeMetadata', params: ({ event }) => ({ metadata: event.output }) } },
        ],
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    // Read right before the request, never cached: CI tokens live minutes, projected tokens rotate.
    readingSubjectToken: {
      invoke: {
        id: 'subjectToken',
        src: 'readSubjectToken',
        input: ({ context }) => ({ providerId: context.providerId, role: 'subject' as const }),
        onDone: [
          {
            guard: { type: 'shouldRefetchSubject', params: ({ event }) => ({ read: event.output }) },
            target: 'readingSubjectToken',
            reenter: true,
            actions: 'markSubjectRefetched',
          },
          {
            guard: { type: 'isSubjectExpired', params: ({ event }) => ({ read: event.output }) },
            target: 'failed',
            actions: { type: 'failSubjectExpired', params: ({ event }) => ({ read: event.output }) },
          },
          {
            guard: 'needsActorToken',
            target: 'readingActorToken',
            actions: { type: 'storeSubject', params: ({ event }) => ({ read: event.output }) },
          },
          { target: 'requestingToken', actions: { type: 'storeSubject', params: ({ event }) => ({ read: event.output }) } },
        ],
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    readingActorToken: {
      invoke: {
        id: 'actorToken',
        src: 'readActorToken',
        input: ({ context }) => ({ providerId: context.providerId, role: 'actor' as const }),
        onDone: { target: 'requestingToken', actions: { type: 'storeActor', params: ({ event }) => ({ read: event.output }) } },
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    requestingToken: {
      invoke: {
        id: 'token',
        src: 'requestToken',
        input: ({ context }) => ({
          providerId: context.providerId,
          tokenEndpoint: context.metadata!.tokenEndpoint,
          issuer: context.metadata!.issuer,
          ...assertionGrantRequest(context),
        }),
        onDone: { target: 'succeeded', actions: { type: 'storeToken', params: ({ event }) => ({ token: event.output }) } },
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type AssertionGrantMachine = typeof assertionGrantMachine;

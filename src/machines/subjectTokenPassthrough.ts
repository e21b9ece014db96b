import { assign, fromPromise, setup } from 'xstate';
import { DEFAULT_ASSUMED_LIFETIME_SEC } from '../constants.js';
import type { TokenErrorInfo } from '../errors.js';
import { actorError, flowError, flowOutput, type FlowResult } from './flowResult.js';
import { DEFAULT_MIN_SUBJECT_LIFETIME_SEC, isSubjectExpired, isSubjectNearlyExpired } from './flowSubject.js';
import type { ReadSubjectInput, SubjectTokenRead } from './flowTypes.js';
import type { TokenSet } from './token.js';
import { unprovidedActors } from './notProvided.js';

/**
 * For gateways that validate the CI OIDC token themselves: the subject token IS the credential.
 *
 *   readingSubjectToken ↺(once, when nearly expired) → succeeded | failed
 *
 * The output carries the header that must hold it (`credentialHeader`): `Authorization: Bearer <jwt>` by
 * default, or e.g. `x-api-key: <jwt>` (see credentialHeaders in src/flows/headers.ts).
 */

/** Where a passthrough credential goes: a lower-cased header name and literal text put before the token. */
export interface CredentialHeader {
  name: string;
  prefix: string;
}

/** A passthrough credential: a TokenSet that names its header. */
export interface PassthroughTokenSet extends TokenSet {
  credentialHeader: CredentialHeader;
}

export interface SubjectTokenPassthroughInput {
  providerId: string;
  /** Lower-cased header name; default `authorization`. */
  header?: string;
  /** Put before the token; default `Bearer ` for `authorization`, nothing for other headers. */
  prefix?: string;
  /** Re-fetch a subject token with less than this many seconds left (default 60). */
  minSubjectLifetimeSec?: number;
  /** Lifetime to assume for a subject token without `exp` (an opaque token), in seconds (default 300). */
  assumedLifetimeSec?: number;
}

export interface SubjectTokenPassthroughContext extends SubjectTokenPassthroughInput {
  subjectRefetched: boolean;
  token: TokenSet | null;
  error: TokenErrorInfo | null;
}


/**
 * The credential made from a subject token. Re-minting starts before `exp` with a margin of a quarter of
 * the lifetime, at most the minimum subject lifetime, so a request never carries a token about to die.
 */
export function passthroughCredentialHeader(input: Pick<SubjectTokenPassthroughInput, 'header' | 'prefix'>): CredentialHeader {
  const name = (input.header ?? 'authorization').toLowerCase();
  return { name, prefix: input.prefix ?? (name === 'authorization' ? 'Bearer ' : '') };
}

export function passthroughToken(read: SubjectTokenRead, input: SubjectTokenPassthroughInput): PassthroughTokenSet {
  const credentialHeader = passthroughCredentialHeader(input);
  const assumed = read.expiresAt === undefined;
  const expiresAt = read.expiresAt ?? read.readAt + (input.assumedLifetimeSec ?? DEFAULT_ASSUMED_LIFETIME_SEC) * 1000;
  const margin = Math.min((input.minSubjectLifetimeSec ?? DEFAULT_MIN_SUBJECT_LIFETIME_SEC) * 1000, Math.max(0, (expiresAt - read.readAt) / 4));
  return {
    accessToken: read.token,
    // `Authorization: <scheme> <token>` keeps working for callers that only read tokenType.
    tokenType: credentialHeader.name === 'authorization' ? credentialHeader.prefix.trim() || 'Bearer' : credentialHeader.name,
    credentialHeader,
    issuedAt: read.readAt,
    expiresAt,
    refreshBy: Math.floor(expiresAt - margin),
    ...(assumed ? { expiryAssumed: true } : {}),
  };
}

const notProvided = unprovidedActors('subjectTokenPassthrough');

export const subjectTokenPassthroughMachine = setup({
  types: {
    input: {} as SubjectTokenPassthroughInput,
    context: {} as SubjectTokenPassthroughContext,
    output: {} as FlowResult,
  },
  actors: {
    readSubjectToken: fromPromise<SubjectTokenRead, ReadSubjectInput>(notProvided('readSubjectToken')),
  },
  guards: {
    shouldRefetchSubject: ({ context }, params: { read: SubjectTokenRead }) =>
      !context.subjectRefetched && isSubjectNearlyExpired(params.read, context.minSubjectLifetimeSec ?? DEFAULT_MIN_SUBJECT_LIFETIME_SEC),
    isSubjectExpired: (_, params: { read: SubjectTokenRead }) => isSubjectExpired(params.read),
  },
  actions: {
    markSubjectRefetched: assign({ subjectRefetched: true }),
    storeCredential: assign(({ context }, params: { read: SubjectTokenRead }) => ({ token: passthroughToken(params.read, context) })),
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
  id: 'subjectTokenPassthrough',
  context: ({ input }) => ({ ...input, subjectRefetched: false, token: null, error: null }),
  initial: 'readingSubjectToken',
  output: ({ context }) => flowOutput(context),
  states: {
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
          { target: 'succeeded', actions: { type: 'storeCredential', params: ({ event }) => ({ read: event.output }) } },
        ],
        onError: { target: 'failed', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type SubjectTokenPassthroughMachine = typeof subjectTokenPassthroughMachine;

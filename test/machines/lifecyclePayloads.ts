import type { TokenErrorInfo } from '../../src/errors.js';
import type { StoredToken } from '../../src/machines/tokenLifecycle.js';
import type { TokenSet } from '../../src/machines/token.js';

// Far-future tokens stay servable whatever the fake clock does during a replay; the stale one never is.
export const FAR = 10_000_000_000_000;
const HOUR = 3_600_000;
export const fresh = (accessToken: string, refreshToken?: string): TokenSet => ({
  accessToken,
  tokenType: 'Bearer',
  issuedAt: FAR - HOUR,
  expiresAt: FAR,
  ...(refreshToken ? { refreshToken } : {}),
});
const stale: TokenSet = { accessToken: 'at-stale', tokenType: 'Bearer', refreshToken: 'rt-stale', issuedAt: 0, expiresAt: 1_000 };

export const stored: Record<string, StoredToken | undefined> = {
  none: undefined,
  fresh: { generation: 5, token: fresh('at-store', 'rt-store') },
  stale: { generation: 5, token: stale },
  withoutRefreshToken: { generation: 5, token: fresh('at-bare') },
  retired: { generation: 5, token: fresh('at-store', 'rt-store'), tombstone: { reason: 'invalid_grant', generation: 5 } },
};
const error = (code: TokenErrorInfo['code']): TokenErrorInfo => ({ code, providerId: 'p', message: `[p] ${code}` });
const storeReads = Object.values(stored).map((output) => ({ output }));

export const payloads: Record<string, object[]> = {
  'TOKEN.NEEDED': [{ interactive: false }, { interactive: true }],
  'TOKEN.REJECTED': ['at-store', 'at-stale', 'at-refreshed', 'at-acquired', 'at-unknown'].map((accessToken) => ({ accessToken })),
  'xstate.done.actor.lock': [{ output: 'p#1' }],
  'xstate.error.actor.lock': [{ error: error('lock_timeout') }],
  'xstate.done.actor.release': [{ output: undefined }],
  'xstate.error.actor.release': [{ error: error('storage') }],
  'xstate.done.actor.load': storeReads,
  'xstate.error.actor.load': [{ error: error('storage') }],
  'xstate.done.actor.reread': storeReads,
  'xstate.error.actor.reread': [{ error: error('storage') }],
  'xstate.done.actor.recover': [
    { output: stored.fresh },
    { output: { generation: 6, token: stale } },
    { output: stored.none },
  ],
  'xstate.error.actor.recover': [{ error: error('storage') }],
  'xstate.done.actor.refresh': [{ output: fresh('at-refreshed', 'rt-rotated') }, { output: fresh('at-refreshed') }],
  'xstate.error.actor.refresh': [
    { error: error('invalid_grant') },
    { error: { ...error('interaction_required'), oauthError: 'login_required' } },
    { error: error('uncertain') },
    { error: error('transient') },
  ],
  // The flow machine's typed result: a token, or its error as a value (nothing thrown).
  'xstate.done.actor.acquire': [
    { output: { status: 'succeeded', token: fresh('at-acquired', 'rt-acquired') } },
    { output: { status: 'succeeded', token: fresh('at-acquired') } },
    ...(['transient', 'access_denied', 'invalid_client'] as const).map((code) => ({ output: { status: 'failed', error: error(code) } })),
  ],
  // Only a bug in a flow machine ends it with an error instead of a result.
  'xstate.error.actor.acquire': [{ error: new Error('bug') }],
  'xstate.done.actor.persist': [{ output: { generation: 6 } }],
  'xstate.error.actor.persist': [{ error: error('storage') }],
  'xstate.done.actor.retire': [{ output: { generation: 6 } }],
  'xstate.error.actor.retire': [{ error: error('storage') }],
  'xstate.done.actor.logout': [{ output: undefined }],
  'xstate.error.actor.logout': [{ error: error('storage') }],
};


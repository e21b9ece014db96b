import type { TokenErrorCode, TokenErrorInfo } from '../errors.js';
import type { FlowName } from './token.js';

/**
 * Every error text tokenLifecycle produces, in one place. Pure values (TokenErrorInfo), secret-free: the
 * texts name the provider and the flow, never a token.
 */
type Who = { providerId: string; flow: FlowName };

const flowLabel = (flow: FlowName) => flow.replace('_', ' ');

export const loginFix = ({ providerId, flow }: Who) => `log in again: \`opencode auth login\` and pick ${providerId} (${flowLabel(flow)})`;

const loginRequired = (who: Who, code: TokenErrorCode, why: string): TokenErrorInfo => ({
  code,
  providerId: who.providerId,
  message: `[${who.providerId}] ${why}`,
  fix: loginFix(who),
});

export const lifecycleErrors = {
  storedWithoutRefreshToken: (who: Who) => loginRequired(who, 'no_refresh_token', 'the stored token has no refresh token, which this flow requires'),
  storedRefreshTokenRetired: (who: Who) => loginRequired(who, 'invalid_grant', 'the stored refresh token was rejected by the IdP'),
  refreshTokenDead: (who: Who) => loginRequired(who, 'invalid_grant', 'the refresh token is no longer valid'),
  noTokenYet: (who: Who) => loginRequired(who, 'interaction_required', 'no token yet and this flow needs a login'),
  cannotRenewWithoutLogin: (who: Who) => loginRequired(who, 'interaction_required', 'the token cannot be renewed without a login'),
  loggedOut: (who: Who) => loginRequired(who, 'evicted', 'logged out; this flow needs a login'),
  noRefreshTokenIssued: (who: Who): TokenErrorInfo => ({
    code: 'no_refresh_token',
    providerId: who.providerId,
    message: `[${who.providerId}] the IdP issued no refresh token, which ${flowLabel(who.flow)} requires`,
    fix: 'request offline_access (or enable refresh tokens for this client at the IdP)',
  }),
  loginCancelled: (who: Who): TokenErrorInfo => ({ code: 'transient', providerId: who.providerId, message: `[${who.providerId}] the login was cancelled` }),
};

export const codeOf = (error: unknown): TokenErrorCode | undefined =>
  error && typeof error === 'object' && 'code' in error ? ((error as { code: unknown }).code as TokenErrorCode) : undefined;

/** The IdP refused the refresh token itself (revoked/spent, or it wants the user back): only a login helps. */
export const isDeadGrantCode = (code: TokenErrorCode | undefined) => code === 'invalid_grant' || code === 'interaction_required';

/** The HTTP adapter: token endpoint, discovery, device authorization, revocation, generic JSON GET. */
export type * from './types.js';
export { createTokenEndpointAdapter } from './adapter.js';
export { requestToken, processTokenResponse, normaliseTokenType, positiveSeconds } from './tokenEndpoint.js';
export type { ProcessTokenOptions } from './tokenEndpoint.js';
export {
  requestDeviceAuthorization,
  processDeviceAuthorizationResponse,
  devicePollOutcome,
  devicePollRequest,
} from './deviceAuthorization.js';
export type { DeviceAuthorizationRequest } from './deviceAuthorization.js';
export { revokeToken } from './revocation.js';
export type { RevocationRequest } from './revocation.js';
export {
  discoverMetadata,
  discoveryUrls,
  processMetadataDocument,
  createMetadataCache,
  resolveMetadata,
  sameIssuer,
  DISCOVERY_TTL_MS,
} from './discovery.js';
export { getJson } from './getJson.js';
export {
  clientAuthParts,
  basicAuthorization,
  createClientAssertion,
  formEncode,
  CLIENT_ASSERTION_TYPE,
  CLIENT_ASSERTION_LIFETIME_SEC,
} from './clientAuth.js';
export type { ClientAuthParts, ClientAuthContext } from './clientAuth.js';
export { errorFromReply, oauthErrorCode, fixFor, grantLabel, GRANT_TYPES } from './oauthErrors.js';
export { RETRY_POLICY, backoffDelay, parseRetryAfter, isRetryableStatus, sendWithRetry, defaultSleep } from './retry.js';
export type { RetryEnv, RetryContext, FinalReply } from './retry.js';
export { createHttpClient, sendOnce, USER_AGENT } from './client.js';
export type { HttpReply, HttpExchange } from './client.js';
export { resolveHttpEnv, DEFAULT_TIMEOUT_MS } from './env.js';
export type { HttpEnv } from './env.js';
export { classifyNetworkError } from './networkErrors.js';
export type { NetworkFailure, NetworkFailureKind } from './networkErrors.js';

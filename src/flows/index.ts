/** Flow runners: the acquisition machines wired to the real adapters, one call per acquisition. */
import type { TokenSet } from '../machines/token.js';
import { runAssertionGrant } from './assertionGrant.js';
import { runAuthorizationCode } from './authorizationCode.js';
import { runDeviceCode } from './deviceCode.js';
import { runPassthrough } from './passthrough.js';
import type { FlowConfig, FlowDeps } from './types.js';

export type { FlowConfig, FlowDeps, FlowName, FlowNotice } from './types.js';
export { runAuthorizationCode, authorizationCodeLogic, authorizationCodeInput, DEFAULT_LOGIN_TIMEOUT_SEC } from './authorizationCode.js';
export { runDeviceCode, deviceCodeLogic, deviceCodeInput } from './deviceCode.js';
export { runAssertionGrant, assertionGrantLogic, assertionGrantInput } from './assertionGrant.js';
export { runPassthrough, passthroughLogic, passthroughInput } from './passthrough.js';
export { runFlowMachine } from './runMachine.js';
export { tokenErrorFromInfo } from './errors.js';
export { credentialHeaders } from './headers.js';

/** Acquire a token with the flow the config names. Rejects with a TokenError. */
export function runFlow(config: FlowConfig, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  switch (config.flow) {
    case 'authorization_code':
      return runAuthorizationCode(config, deps, signal);
    case 'device_code':
      return runDeviceCode(config, deps, signal);
    case 'client_credentials':
    case 'jwt_bearer':
    case 'token_exchange':
      return runAssertionGrant({ ...config, flow: config.flow }, deps, signal);
    case 'passthrough':
      return runPassthrough(config, deps, signal);
  }
}

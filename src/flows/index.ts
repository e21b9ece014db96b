/** Flow runners: the acquisition machines wired to the real adapters, one call per acquisition. */
import type { AnyStateMachine } from 'xstate';
import type { TokenSet } from '../machines/token.js';
import { assertionGrantInput, assertionGrantLogic, runAssertionGrant } from './assertionGrant.js';
import { authorizationCodeInput, authorizationCodeLogic, runAuthorizationCode } from './authorizationCode.js';
import { deviceCodeInput, deviceCodeLogic, runDeviceCode } from './deviceCode.js';
import { passthroughInput, passthroughLogic, runPassthrough } from './passthrough.js';
import type { FlowConfig, FlowDeps } from './types.js';

export type { FlowConfig, FlowDeps, FlowName, FlowNotice } from './types.js';
export { runAuthorizationCode, authorizationCodeLogic, authorizationCodeInput } from './authorizationCode.js';
export { runDeviceCode, deviceCodeLogic, deviceCodeInput } from './deviceCode.js';
export { runAssertionGrant, assertionGrantLogic, assertionGrantInput } from './assertionGrant.js';
export { runPassthrough, passthroughLogic, passthroughInput } from './passthrough.js';
export { runFlowMachine } from './runMachine.js';
export { fromErrorInfo as tokenErrorFromInfo } from '../errors.js';
export { credentialHeaders } from './headers.js';

/**
 * The provider's flow machine wired to the real adapters, and its input minus `interactive` (which the
 * lifecycle adds per acquisition): what tokenLifecycle invokes as its `acquireToken` child.
 */
export function acquisitionOf(config: Omit<FlowConfig, 'interactive'>, deps: FlowDeps): { logic: AnyStateMachine; input: Record<string, unknown> } {
  const full: FlowConfig = { ...config, interactive: false };
  const { interactive: _perCall, ...input } = inputOf(full) as Record<string, unknown>;
  return { logic: logicOf(full, deps), input };
}

function logicOf(config: FlowConfig, deps: FlowDeps): AnyStateMachine {
  switch (config.flow) {
    case 'authorization_code':
      return authorizationCodeLogic(config, deps);
    case 'device_code':
      return deviceCodeLogic(config, deps);
    case 'client_credentials':
    case 'jwt_bearer':
    case 'token_exchange':
      return assertionGrantLogic(config, deps);
    case 'passthrough':
      return passthroughLogic(config, deps);
  }
}

function inputOf(config: FlowConfig): object {
  switch (config.flow) {
    case 'authorization_code':
      return authorizationCodeInput(config);
    case 'device_code':
      return deviceCodeInput(config);
    case 'client_credentials':
    case 'jwt_bearer':
    case 'token_exchange':
      return assertionGrantInput({ ...config, flow: config.flow });
    case 'passthrough':
      return passthroughInput(config);
  }
}

/** Acquire a token with the flow the config names, as a standalone actor. Rejects with a TokenError. */
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

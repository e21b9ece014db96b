/** Flow runners: the acquisition machines wired to the real adapters, read straight from the provider model. */
import type { AnyStateMachine } from 'xstate';
import type { TokenSet } from '../machines/token.js';
import { assertionGrantInput, assertionGrantLogic } from './assertionGrant.js';
import { authorizationCodeInput, authorizationCodeLogic } from './authorizationCode.js';
import { deviceCodeInput, deviceCodeLogic } from './deviceCode.js';
import { passthroughInput, passthroughLogic } from './passthrough.js';
import { runFlowMachine } from './runMachine.js';
import type { FlowConfig, FlowDeps } from './types.js';

export type { FlowConfig, FlowConfigOf, FlowDeps, FlowName, FlowNotice, FlowProvider } from './types.js';
export { fromErrorInfo as tokenErrorFromInfo } from '../errors.js';
export { credentialHeaders } from './headers.js';

/** The provider's flow machine wired to the real adapters, and the input it starts with. */
function acquisition(config: FlowConfig, deps: FlowDeps): { logic: AnyStateMachine; input: object } {
  switch (config.flow) {
    case 'authorization_code':
      return { logic: authorizationCodeLogic(config, deps), input: authorizationCodeInput(config) };
    case 'device_code':
      return { logic: deviceCodeLogic(config, deps), input: deviceCodeInput(config) };
    case 'client_credentials':
    case 'jwt_bearer':
    case 'token_exchange':
      return { logic: assertionGrantLogic(config, deps), input: assertionGrantInput(config) };
    case 'passthrough':
      return { logic: passthroughLogic(config, deps), input: passthroughInput(config) };
  }
}

/**
 * What tokenLifecycle invokes as its `acquireToken` child: the flow machine and its input minus
 * `interactive`, which the lifecycle adds per acquisition.
 */
export function acquisitionOf(config: Omit<FlowConfig, 'interactive'>, deps: FlowDeps): { logic: AnyStateMachine; input: Record<string, unknown> } {
  const { logic, input } = acquisition({ ...config, interactive: false } as FlowConfig, deps);
  const { interactive: _perCall, ...rest } = input as Record<string, unknown>;
  return { logic, input: rest };
}

/** One acquisition as a standalone actor (outside a lifecycle): the token, or a rejection with a TokenError. */
export function runFlow(config: FlowConfig, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  const { logic, input } = acquisition(config, deps);
  return runFlowMachine(logic, input as never, {
    providerId: config.id,
    ...(signal ? { signal } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
}

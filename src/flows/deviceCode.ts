import { deviceCodeMachine, type DeviceCodeInput } from '../machines/deviceCode.js';
import type { TokenSet } from '../machines/token.js';
import { clockTime, deviceAuthorizationActor, discoverActor, loggerOf, nowOf, openUrlActor, pkceActor, pollActor } from './actors.js';
import { runFlowMachine } from './runMachine.js';
import type { FlowConfig, FlowDeps } from './types.js';

export function deviceCodeInput(config: FlowConfig): DeviceCodeInput {
  return {
    providerId: config.providerId,
    scopes: config.scopes,
    interactive: config.interactive,
    usePkce: config.pkce ?? true,
    openBrowser: config.openBrowser ?? true,
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
    ...(config.authorizationParams ? { authorizationParams: config.authorizationParams } : {}),
  };
}

/** The deviceCode machine with the real token endpoint, browser opener and PKCE. */
export function deviceCodeLogic(config: FlowConfig, deps: FlowDeps) {
  const now = nowOf(deps);
  const logger = loggerOf(deps);
  return deviceCodeMachine.provide({
    actors: {
      discoverEndpoints: discoverActor(config, deps, ['deviceAuthorizationEndpoint']),
      generatePkce: pkceActor(deps),
      requestDeviceAuthorization: deviceAuthorizationActor(config, deps),
      openBrowser: openUrlActor(config, deps),
      pollToken: pollActor(config, deps),
    },
    actions: {
      showUserCode: (_, params) => {
        const expiresAt = now() + params.expiresInSec * 1000;
        config.notify({
          kind: 'device_code',
          text: `To log in to ${config.providerName ?? config.providerId}, visit ${params.verificationUri} and enter the code ${params.userCode} (valid until ${clockTime(expiresAt)}).`,
          url: params.verificationUriComplete ?? params.verificationUri,
          userCode: params.userCode,
          expiresAt,
        });
      },
      reportTransientPoll: (_, params) =>
        logger.warn('oauth_device_poll_transient', { providerId: config.providerId, nextWaitSec: params.nextWaitSec }),
    },
  });
}

/** Device login (RFC 8628): resolves with a token that carries a refresh token, or rejects with a TokenError. */
export function runDeviceCode(config: FlowConfig, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  return runFlowMachine(deviceCodeLogic(config, deps), deviceCodeInput(config), {
    providerId: config.providerId,
    ...(signal ? { signal } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
}

import { deviceCodeMachine, type DeviceCodeInput } from '../machines/deviceCode.js';
import { clockTime, deviceAuthorizationActor, discoverActor, loggerOf, nowOf, openUrlActor, pkceActor, pollActor } from './actors.js';
import type { FlowConfigOf, FlowDeps } from './types.js';

export function deviceCodeInput(config: FlowConfigOf<'device_code'>): DeviceCodeInput {
  return {
    providerId: config.id,
    scopes: config.scopes,
    interactive: config.interactive,
    usePkce: config.pkce,
    openBrowser: config.openBrowser,
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
    ...(config.authorizationParams ? { authorizationParams: config.authorizationParams } : {}),
  };
}

/** Device login (RFC 8628): the deviceCode machine with the real token endpoint, browser opener and PKCE. */
export function deviceCodeLogic(config: FlowConfigOf<'device_code'>, deps: FlowDeps) {
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
          text: `To log in to ${config.name}, visit ${params.verificationUri} and enter the code ${params.userCode} (valid until ${clockTime(expiresAt)}).`,
          url: params.verificationUriComplete ?? params.verificationUri,
          userCode: params.userCode,
          expiresAt,
        });
      },
      reportTransientPoll: (_, params) =>
        logger.warn('oauth_device_poll_transient', { providerId: config.id, nextWaitSec: params.nextWaitSec }),
    },
  });
}

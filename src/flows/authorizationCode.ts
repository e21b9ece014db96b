import { authorizationCodeMachine, type AuthorizationCodeInput } from '../machines/authorizationCode.js';
import { clockTime, discoverActor, loggerOf, loopbackActor, nowOf, openUrlActor, pkceActor, tokenCallActor } from './actors.js';
import type { FlowConfigOf, FlowDeps } from './types.js';

export function authorizationCodeInput(config: FlowConfigOf<'authorization_code'>): AuthorizationCodeInput {
  return {
    providerId: config.id,
    clientId: config.clientAuth.clientId,
    scopes: config.scopes,
    interactive: config.interactive,
    openBrowser: config.openBrowser,
    loginTimeoutSec: config.loginTimeoutSec,
    redirectPath: config.redirectPath,
    ...(config.redirectPort !== undefined ? { redirectPort: config.redirectPort } : {}),
    ...(config.authorizationParams ? { authorizationParams: config.authorizationParams } : {}),
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };
}

/**
 * Browser login with PKCE on a loopback redirect (a token that carries a refresh token, or a typed error):
 * the authorizationCode machine with the real loopback server, browser opener, PKCE and token endpoint.
 */
export function authorizationCodeLogic(config: FlowConfigOf<'authorization_code'>, deps: FlowDeps) {
  const now = nowOf(deps);
  const logger = loggerOf(deps);
  return authorizationCodeMachine.provide({
    actors: {
      discoverEndpoints: discoverActor(config, deps, ['authorizationEndpoint']),
      generatePkce: pkceActor(deps),
      loopback: loopbackActor(config, deps),
      openBrowser: openUrlActor(config, deps),
      exchangeCode: tokenCallActor(config, deps),
    },
    actions: {
      showAuthorizationUrl: (_, params) =>
        config.notify({ kind: 'browser', text: `Open this URL in a browser to log in to ${config.name}:`, url: params.url }),
      announceWaiting: (_, params) => {
        const until = now() + params.timeoutSec * 1000;
        config.notify({
          kind: 'info',
          text: `Log in to ${config.name} in the browser; waiting for the answer on ${params.redirectUri} until ${clockTime(until)}.`,
          expiresAt: until,
        });
      },
      reportStray: (_, params) => logger.debug('oauth_callback_stray', { providerId: config.id, reason: params.reason }),
    },
  });
}

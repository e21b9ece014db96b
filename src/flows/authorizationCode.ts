import { DEFAULT_LOGIN_TIMEOUT_SEC, DEFAULT_REDIRECT_PATH } from '../constants.js';
import { authorizationCodeMachine, type AuthorizationCodeInput } from '../machines/authorizationCode.js';
import type { TokenSet } from '../machines/token.js';
import { clockTime, discoverActor, loggerOf, loopbackActor, nowOf, openUrlActor, pkceActor, tokenCallActor } from './actors.js';
import { runFlowMachine } from './runMachine.js';
import type { FlowConfig, FlowDeps } from './types.js';

export function authorizationCodeInput(config: FlowConfig): AuthorizationCodeInput {
  return {
    providerId: config.providerId,
    clientId: config.clientAuth.clientId,
    scopes: config.scopes,
    interactive: config.interactive,
    openBrowser: config.openBrowser ?? true,
    loginTimeoutSec: config.loginTimeoutSec ?? DEFAULT_LOGIN_TIMEOUT_SEC,
    redirectPath: config.redirectPath ?? DEFAULT_REDIRECT_PATH,
    ...(config.redirectPort !== undefined ? { redirectPort: config.redirectPort } : {}),
    ...(config.prompt ? { prompt: config.prompt } : {}),
    ...(config.loginHint ? { loginHint: config.loginHint } : {}),
    ...(config.authorizationParams ? { authorizationParams: config.authorizationParams } : {}),
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };
}

/** The authorizationCode machine with the real loopback server, browser opener, PKCE and token endpoint. */
export function authorizationCodeLogic(config: FlowConfig, deps: FlowDeps) {
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
        config.notify({ kind: 'browser', text: `Open this URL in a browser to log in to ${config.providerName ?? config.providerId}:`, url: params.url }),
      announceWaiting: (_, params) => {
        const until = now() + params.timeoutSec * 1000;
        config.notify({
          kind: 'info',
          text: `Log in to ${config.providerName ?? config.providerId} in the browser; waiting for the answer on ${params.redirectUri} until ${clockTime(until)}.`,
          expiresAt: until,
        });
      },
      reportStray: (_, params) => logger.debug('oauth_callback_stray', { providerId: config.providerId, reason: params.reason }),
    },
  });
}

/**
 * Browser login with PKCE on a loopback redirect: resolves with a token that carries a refresh token,
 * or rejects with a TokenError (interaction_required, access_denied, timeout, no_refresh_token, …).
 */
export function runAuthorizationCode(config: FlowConfig, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  return runFlowMachine(authorizationCodeLogic(config, deps), authorizationCodeInput(config), {
    providerId: config.providerId,
    ...(signal ? { signal } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
}

import { assertionGrantMachine, type AssertionGrantInput, type AssertionGrantKind } from '../machines/assertionGrant.js';
import type { TokenSet } from '../machines/token.js';
import { discoverActor, readSubjectActor, tokenCallActor } from './actors.js';
import { runFlowMachine } from './runMachine.js';
import type { FlowConfig, FlowDeps } from './types.js';

export function assertionGrantInput(config: FlowConfig & { flow: AssertionGrantKind }): AssertionGrantInput {
  return {
    providerId: config.providerId,
    grant: config.flow,
    scopes: config.scopes,
    ...(config.audience ? { audience: config.audience } : {}),
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(config.subjectIssuer ? { subjectIssuer: config.subjectIssuer } : {}),
    ...(config.tokenExchange?.subjectTokenType ? { subjectTokenType: config.tokenExchange.subjectTokenType } : {}),
    ...(config.tokenExchange?.requestedTokenType ? { requestedTokenType: config.tokenExchange.requestedTokenType } : {}),
    ...(config.tokenExchange?.actorTokenType ? { actorTokenType: config.tokenExchange.actorTokenType } : {}),
    ...(config.actorTokenSource ? { useActorToken: true } : {}),
    ...(config.minSubjectLifetimeSec !== undefined ? { minSubjectLifetimeSec: config.minSubjectLifetimeSec } : {}),
  };
}

/** The assertionGrant machine with the real token endpoint and subject-token sources. */
export function assertionGrantLogic(config: FlowConfig, deps: FlowDeps) {
  return assertionGrantMachine.provide({
    actors: {
      discoverEndpoints: discoverActor(config, deps, []),
      readSubjectToken: readSubjectActor(config, deps),
      readActorToken: readSubjectActor(config, deps),
      requestToken: tokenCallActor(config, deps),
    },
  });
}

/** client_credentials, jwt_bearer or token_exchange; the token never outlives its subject token. */
export function runAssertionGrant(config: FlowConfig & { flow: AssertionGrantKind }, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  return runFlowMachine(assertionGrantLogic(config, deps), assertionGrantInput(config), {
    providerId: config.providerId,
    ...(signal ? { signal } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
}

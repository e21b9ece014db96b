import { assertionGrantMachine, type AssertionGrantInput, type AssertionGrantKind } from '../machines/assertionGrant.js';
import { discoverActor, readSubjectActor, tokenCallActor } from './actors.js';
import type { FlowConfigOf, FlowDeps } from './types.js';

type AssertionGrantConfig = FlowConfigOf<AssertionGrantKind>;

export function assertionGrantInput(config: AssertionGrantConfig): AssertionGrantInput {
  const exchange = config.flow === 'token_exchange' ? config : undefined;
  return {
    providerId: config.id,
    grant: config.flow,
    scopes: config.scopes,
    ...(config.audience ? { audience: config.audience } : {}),
    ...(config.resource?.length ? { resource: config.resource } : {}),
    ...(exchange
      ? {
          subjectTokenType: exchange.subjectTokenType,
          ...(exchange.subjectIssuer ? { subjectIssuer: exchange.subjectIssuer } : {}),
          ...(exchange.requestedTokenType ? { requestedTokenType: exchange.requestedTokenType } : {}),
          ...(exchange.actorTokenSource ? { useActorToken: true, actorTokenType: exchange.actorTokenType } : {}),
        }
      : {}),
  };
}

/**
 * client_credentials, jwt_bearer or token_exchange, with the real token endpoint and subject-token
 * sources; the token never outlives its subject token.
 */
export function assertionGrantLogic(config: AssertionGrantConfig, deps: FlowDeps) {
  return assertionGrantMachine.provide({
    actors: {
      discoverEndpoints: discoverActor(config, deps, []),
      readSubjectToken: readSubjectActor(config, deps),
      readActorToken: readSubjectActor(config, deps),
      requestToken: tokenCallActor(config, deps),
    },
  });
}
